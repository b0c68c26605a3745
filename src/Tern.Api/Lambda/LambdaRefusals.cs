namespace Tern.Api.Lambda;

/// <summary>Lambda features Tern does not have, refused by name (InvalidParameterValueException) rather than ignored,
/// where ignoring them would run something other than what the caller asked for.</summary>
internal static class LambdaRefusals
{
    public static void Code(string? s3Bucket, string? s3Key, string? imageUri)
    {
        if (s3Bucket is not null || s3Key is not null)
            throw Refuse("code from S3 (S3Bucket, S3Key) is not supported by Tern; send the zip itself as ZipFile");
        if (imageUri is not null) throw Refuse("container images (ImageUri) are not supported by Tern; send a zip as ZipFile");
    }

    public static void PackageType(string? packageType)
    {
        if (packageType is not null && packageType != "Zip") throw Refuse($"PackageType '{packageType}' is not supported by Tern; only Zip");
    }

    public static void Layers(List<string>? layers)
    {
        if (layers is { Count: > 0 }) throw Refuse("Layers are not supported by Tern; put what the layer holds into the zip");
    }

    public static void Architectures(List<string>? architectures)
    {
        if (architectures is not null && architectures.Any(a => a != "x86_64"))
            throw Refuse("Tern runs x86_64 only; Architectures must be [\"x86_64\"] or left out");
    }

    /// <summary>Timeout in seconds (1..900) as Tern's milliseconds.</summary>
    public static int? TimeoutMs(int? seconds) => seconds switch
    {
        null => null,
        >= 1 and <= 900 => seconds * 1000,
        _ => throw Refuse("Timeout must be 1 to 900 seconds"),
    };

    public static LambdaException Refuse(string message) => new(LambdaErrorType.InvalidParameterValue, message);
}
