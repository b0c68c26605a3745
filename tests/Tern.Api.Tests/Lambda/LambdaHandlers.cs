namespace Tern.Api.Tests.Lambda;

/// <summary>Unmodified Lambda Python handlers (lambda_function.lambda_handler), as they would be deployed to AWS.</summary>
public static class LambdaHandlers
{
    public const string Handler = "lambda_function.lambda_handler";
    public const string File = "lambda_function.py";

    /// <summary>Returns which code answered, and the event; prints the event's token (for the logs).</summary>
    public static (string, string) Versioned(string codeVersion) => (File, $$"""
        import json

        def lambda_handler(event, context):
            print("token", event.get("token"))
            return {"code": "{{codeVersion}}", "echo": event, "requestId": context.aws_request_id}
        """);

    public static readonly (string, string) Failing = (File, """
        def lambda_handler(event, context):
            raise ValueError("boom: " + str(event.get("why")))
        """);

    /// <summary>Reads AWS_REGION as handlers on Lambda do (os.environ[...] raises KeyError when it is not set).</summary>
    public static readonly (string, string) Region = (File, """
        import os

        def lambda_handler(event, context):
            return {"region": os.environ["AWS_REGION"], "default": os.environ.get("AWS_DEFAULT_REGION")}
        """);
}
