using Tern.Core.Functions;

namespace Tern.Api.Lambda;

/// <summary>The FunctionName of a Lambda path: a name, name:qualifier, a full ARN
/// (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]) or a partial one (ACCOUNT:function:NAME). A qualifier may
/// also come as ?Qualifier=; both only when they agree.</summary>
internal readonly partial record struct LambdaFunctionName(string Name, string? Qualifier)
{
    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{12}:function:")]
    private static partial System.Text.RegularExpressions.Regex PartialArn();

    public static LambdaFunctionName Parse(string raw, string? queryQualifier)
    {
        var text = raw;
        if (text.StartsWith("arn:", StringComparison.Ordinal) || PartialArn().IsMatch(text))
        {
            var marker = text.IndexOf(":function:", StringComparison.Ordinal);
            if (marker < 0) throw new LambdaException(LambdaErrorType.InvalidParameterValue, $"'{raw}' is not a Lambda function ARN");
            text = text[(marker + ":function:".Length)..];
        }
        string? qualifier = null;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            qualifier = text[(colon + 1)..];
            text = text[..colon];
        }
        if (queryQualifier is { Length: > 0 })
        {
            if (qualifier is not null && qualifier != queryQualifier)
                throw new LambdaException(LambdaErrorType.InvalidParameterValue,
                    $"the qualifier in the function name ('{qualifier}') and the Qualifier parameter ('{queryQualifier}') differ");
            qualifier = queryQualifier;
        }
        if (text.Length == 0) throw new LambdaException(LambdaErrorType.InvalidParameterValue, "FunctionName is empty");
        if (qualifier is not null && Qualifiers.Check(qualifier) is { } wrong) throw new LambdaException(LambdaErrorType.InvalidParameterValue, wrong);
        return new LambdaFunctionName(text, qualifier == Qualifiers.Latest ? null : qualifier);
    }

    /// <summary>A name Tern cannot hold (Tern names are ^[a-z0-9][a-z0-9_-]{0,63}$) names no function.</summary>
    public void ThrowIfUnknownShape()
    {
        if (!FunctionNames.IsValid(Name)) throw new FunctionNotFoundException(Name);
    }
}
