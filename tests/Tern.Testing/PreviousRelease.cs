namespace Tern.Testing;

/// <summary>A data directory written by the release before schema versions (commit b24958b, the daemon run for real, not
/// a hand-made file): function "upgrade-fn" (Python, persistent, env MODE and DB_PASSWORD=$SECRET:DB_PASSWORD) at
/// config revision 2, versions 1 (MODE=old) and 2 (MODE=v2), alias prod -> 2 (previously 1), secret DB_PASSWORD,
/// a cron schedule, API key "ci" (50/s), three sync calls (one failed) and one async call. Tables from before API
/// key roles, secret scopes and schema_versions. See tests/Tern.Testing/Fixtures/README.md for how it was made.</summary>
public static class PreviousRelease
{
    public const string Function = "upgrade-fn";
    public const string SecretValue = "s3cr3t-old";
    public const string ApiKey = "tern_41HWt2PVv34Ybr07veTlGhypNB46AHWO1JsJrtoUb3M";
    /// <summary>The async call ({"n":3}), which succeeded.</summary>
    public const string AsyncExecutionId = "01a2367c-d08b-7894-9498-045cee7059d7";

    private static string Source => Path.Combine(RepoPaths.Root, "tests", "Tern.Testing", "Fixtures", "release-b24958b");

    /// <summary>Copies the fixture into <paramref name="dataDir"/> (which must not hold a database yet).</summary>
    public static void CopyTo(string dataDir)
    {
        foreach (var file in Directory.EnumerateFiles(Source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(dataDir, Path.GetRelativePath(Source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        File.SetUnixFileMode(Path.Combine(dataDir, "master.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
