namespace Tern.Api.Auth.SigV4;

/// <summary>The Authorization header of an AWS Signature Version 4 request:
/// <c>AWS4-HMAC-SHA256 Credential=KEYID/20261202/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=HEX</c>.</summary>
internal sealed record SigV4Authorization(string AccessKeyId, string Date, string Region, string Service, IReadOnlyList<string> SignedHeaders,
    string Signature)
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    public string Scope => $"{Date}/{Region}/{Service}/aws4_request";

    public static bool IsSigV4(string authorization) => authorization.StartsWith(Algorithm + " ", StringComparison.Ordinal);

    public static bool TryParse(string authorization, out SigV4Authorization parsed, out string error)
    {
        parsed = null!;
        error = "";
        if (!IsSigV4(authorization))
        {
            error = $"the Authorization header is not {Algorithm}";
            return false;
        }
        string? credential = null, signedHeaders = null, signature = null;
        foreach (var part in authorization[(Algorithm.Length + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) continue;
            var (name, value) = (part[..eq], part[(eq + 1)..]);
            switch (name)
            {
                case "Credential": credential = value; break;
                case "SignedHeaders": signedHeaders = value; break;
                case "Signature": signature = value; break;
            }
        }
        var scope = credential?.Split('/');
        if (scope is not { Length: 5 } || scope[4] != "aws4_request" || scope[0].Length == 0 || scope[1].Length != 8)
        {
            error = "Credential must be ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request";
            return false;
        }
        if (string.IsNullOrEmpty(signedHeaders) || signature is not { Length: 64 } || !signature.All(char.IsAsciiHexDigitLower))
        {
            error = "SignedHeaders and Signature (64 lowercase hex digits) are required";
            return false;
        }
        parsed = new SigV4Authorization(scope[0], scope[1], scope[2], scope[3], signedHeaders.Split(';'), signature);
        return true;
    }
}
