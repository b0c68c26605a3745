namespace Tern.Api.Lambda;

/// <summary>The error types of the Lambda API Tern answers with: the names botocore's service model knows, so the SDKs
/// raise the matching exception class (boto3: client.exceptions.ResourceNotFoundException, ...).</summary>
internal static class LambdaErrorType
{
    public const string ResourceNotFound = "ResourceNotFoundException";
    public const string ResourceConflict = "ResourceConflictException";
    public const string InvalidParameterValue = "InvalidParameterValueException";
    public const string InvalidRequestContent = "InvalidRequestContentException";
    public const string RequestTooLarge = "RequestTooLargeException";
    public const string TooManyRequests = "TooManyRequestsException";
    public const string PreconditionFailed = "PreconditionFailedException";
    public const string Service = "ServiceException";
    public const string UnknownOperation = "UnknownOperationException";
    // Authentication (not in the Lambda model: the SDKs raise a ClientError with this code, as against AWS).
    public const string MissingAuthenticationToken = "MissingAuthenticationTokenException";
    public const string UnrecognizedClient = "UnrecognizedClientException";
    public const string InvalidSignature = "InvalidSignatureException";
    public const string AccessDenied = "AccessDeniedException";

    public static int Status(string type) => type switch
    {
        ResourceNotFound or UnknownOperation => 404,
        ResourceConflict => 409,
        RequestTooLarge => 413,
        TooManyRequests => 429,
        PreconditionFailed => 412,
        Service => 503,
        MissingAuthenticationToken or UnrecognizedClient or InvalidSignature or AccessDenied => 403,
        _ => 400,
    };

    /// <summary>The model spells the message member "Message" for these and "message" for the rest; botocore reads either,
    /// the typed SDKs (.NET, Java) the modelled one.</summary>
    public static bool CapitalMessage(string type) => type is ResourceNotFound or Service;
}

/// <summary>A request the Lambda API refuses, with the Lambda error type to answer with.</summary>
/// <param name="reason">TooManyRequestsException only: which limit, as the model's ThrottleReason names it.</param>
internal sealed class LambdaException(string type, string message, int? retryAfterSeconds = null, string? reason = null) : Exception(message)
{
    public string Type { get; } = type;
    public int? RetryAfterSeconds { get; } = retryAfterSeconds;
    public string? Reason { get; } = reason;
}

/// <summary>The ThrottleReason values of TooManyRequestsException that Tern's limits correspond to.</summary>
internal static class LambdaThrottleReason
{
    /// <summary>The function's concurrency or queue is full (Tern's maxReplicas, concurrency, queueSize).</summary>
    public const string Concurrency = "ReservedFunctionConcurrentInvocationLimitExceeded";
    /// <summary>The function's (or the global) calls-per-second limit.</summary>
    public const string FunctionRate = "FunctionInvocationRateLimitExceeded";
    /// <summary>The API key's own requests-per-second limit, or too many failed authentications from the address.</summary>
    public const string CallerRate = "CallerRateLimitExceeded";
}
