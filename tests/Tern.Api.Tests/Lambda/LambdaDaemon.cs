using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Tern.Testing;

namespace Tern.Api.Tests.Lambda;

/// <summary>A real `tern daemon` process with auth on, and the real AWS clients pointed at it: every aws CLI and boto3
/// call is SigV4-signed with the bootstrap admin key (access key id = the key's id, secret = hex SHA-256 of the key).</summary>
public sealed class LambdaDaemon : IAsyncLifetime
{
    public const string Region = "eu-west-1";
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "tern-lambda-" + Guid.NewGuid().ToString("N"));
    private int _scripts;

    public DaemonProcess Daemon { get; private set; } = null!;
    public string WorkDir { get; } = Path.Combine(Path.GetTempPath(), "tern-lambda-work-" + Guid.NewGuid().ToString("N"));
    public string Endpoint => Daemon.BaseAddress.ToString().TrimEnd('/');
    public string ApiKey { get; private set; } = "";
    public string KeyId => ApiKey.Substring("tern_".Length, 8);
    public string Secret => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(ApiKey)));
    /// <summary>Tern's own API, with the key as a bearer token (to look behind the Lambda API: records, logs).</summary>
    public HttpClient Http { get; private set; } = null!;
    public string AwsPath { get; private set; } = "";
    public string PythonPath { get; private set; } = "";

    public async Task InitializeAsync()
    {
        (AwsPath, PythonPath) = await AwsClients.GetAsync();
        Directory.CreateDirectory(WorkDir);
        Daemon = await DaemonProcess.StartAsync(_dataDir, new Dictionary<string, string> { ["TERN_AUTH"] = "on" });
        await Eventually.TrueAsync(() => Daemon.RecentOutput.Split('\n').Any(l => l.StartsWith("tern_", StringComparison.Ordinal)),
            "the daemon printed its bootstrap key", 10_000);
        ApiKey = Daemon.RecentOutput.Split('\n').First(l => l.StartsWith("tern_", StringComparison.Ordinal)).Trim();
        Http = new HttpClient { BaseAddress = Daemon.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (Daemon is not null) await Daemon.DisposeAsync();
        foreach (var dir in new[] { _dataDir, WorkDir })
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>A zip of Python handler files (name -> source) in the work directory; returns its path.</summary>
    public string Zip(string name, params (string File, string Source)[] files)
    {
        var path = Path.Combine(WorkDir, name + ".zip");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
            foreach (var (file, source) in files)
            {
                using var entry = new StreamWriter(zip.CreateEntry(file).Open());
                entry.Write(source);
            }
        return path;
    }

    public string WriteFile(string name, string content)
    {
        var path = Path.Combine(WorkDir, name);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>The aws CLI with the key's credentials, nothing from the machine's own AWS config.</summary>
    public Task<(int Exit, string Stdout, string Stderr)> AwsAsync(params string[] args) =>
        AwsClients.RunSplitAsync(AwsPath, ["--endpoint-url", Endpoint, "--output", "json", .. args], new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = KeyId, ["AWS_SECRET_ACCESS_KEY"] = Secret, ["AWS_DEFAULT_REGION"] = Region, ["AWS_REGION"] = Region,
            ["AWS_EC2_METADATA_DISABLED"] = "true", ["AWS_CONFIG_FILE"] = "/dev/null", ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null",
            ["AWS_PAGER"] = "",
        }, TimeSpan.FromMinutes(2), WorkDir);

    /// <summary>The aws CLI, which must succeed; its JSON output.</summary>
    public async Task<JsonNode> AwsJsonAsync(params string[] args)
    {
        var (exit, stdout, stderr) = await AwsAsync(args);
        if (exit != 0) throw new InvalidOperationException($"aws {string.Join(' ', args)} exited {exit}: {stderr}{stdout}");
        return JsonNode.Parse(stdout)!;
    }

    /// <summary>Runs <paramref name="body"/> as a boto3 script: `lam` is a signed Lambda client for the daemon,
    /// `client(...)` makes others (another key id or secret, signed=False), `out` is a dict printed as JSON at the end
    /// and returned here. A Python exception fails the call with its traceback.</summary>
    public async Task<JsonObject> Boto3Async(string body)
    {
        var script = WriteFile($"boto3-{Interlocked.Increment(ref _scripts)}.py", Boto3Prelude + body + "\nprint(json.dumps(out))\n");
        var (exit, stdout, stderr) = await AwsClients.RunSplitAsync(PythonPath, [script], new Dictionary<string, string>
        {
            ["TERN_ENDPOINT"] = Endpoint, ["TERN_KEY_ID"] = KeyId, ["TERN_SECRET"] = Secret, ["AWS_EC2_METADATA_DISABLED"] = "true",
            ["AWS_CONFIG_FILE"] = "/dev/null", ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null", ["TERN_WORK"] = WorkDir,
        }, TimeSpan.FromMinutes(3), WorkDir);
        if (exit != 0) throw new InvalidOperationException($"the boto3 script exited {exit}:\n{stderr}\n{stdout}");
        return JsonNode.Parse(stdout.Trim().Split('\n')[^1])!.AsObject();
    }

    private const string Boto3Prelude = """
        import base64, json, os, time
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config
        from botocore.exceptions import ClientError

        def client(key_id=None, secret=None, signed=True):
            config = Config(retries={"total_max_attempts": 1}, **({} if signed else {"signature_version": UNSIGNED}))
            return boto3.client("lambda", endpoint_url=os.environ["TERN_ENDPOINT"], region_name="eu-west-1",
                aws_access_key_id=key_id or os.environ["TERN_KEY_ID"], aws_secret_access_key=secret or os.environ["TERN_SECRET"],
                config=config)

        def zip_of(files):
            import io, zipfile
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as z:
                for name, source in files.items():
                    z.writestr(name, source)
            return buffer.getvalue()

        def error_of(call):
            try:
                call()
            except ClientError as e:
                return {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"],
                        "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
                        "headers": e.response["ResponseMetadata"]["HTTPHeaders"], "class": type(e).__name__}
            raise AssertionError("the call succeeded; an error was expected")

        lam = client()
        out = {}

        """;
}
