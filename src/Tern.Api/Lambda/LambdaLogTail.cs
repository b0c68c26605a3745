using System.Globalization;
using System.Text;
using Tern.Core.Invocations;

namespace Tern.Api.Lambda;

/// <summary>X-Amz-Log-Result for Invoke with X-Amz-Log-Type: Tail: the last 4 KB of the call's log, base64, framed by
/// Lambda's START / END / REPORT lines. The log is what the handler wrote during this call (stdout, then stderr, as the
/// result carries them; in persistent mode a handler's prints go to stderr).</summary>
internal static class LambdaLogTail
{
    public const int MaxBytes = 4096;

    public static string Build(string requestId, string version, InvocationResult result, int memoryMb)
    {
        var log = new StringBuilder();
        log.Append(CultureInfo.InvariantCulture, $"START RequestId: {requestId} Version: {version}\n");
        AppendLines(log, result.StdoutTail);
        AppendLines(log, result.StderrTail);
        log.Append(CultureInfo.InvariantCulture, $"END RequestId: {requestId}\n");
        log.Append(CultureInfo.InvariantCulture,
            $"REPORT RequestId: {requestId}\tDuration: {result.DurationMs:0.00} ms\tBilled Duration: {Math.Ceiling(result.DurationMs):0} ms\tMemory Size: {memoryMb} MB\t{(result.ColdStart ? "Init: cold start\t" : "")}\n");
        return Convert.ToBase64String(Last(Encoding.UTF8.GetBytes(log.ToString())));
    }

    private static void AppendLines(StringBuilder log, string? text)
    {
        if (string.IsNullOrEmpty(text)) return;
        log.Append(text);
        if (text[^1] != '\n') log.Append('\n');
    }

    /// <summary>The last MaxBytes bytes, starting at a whole UTF-8 character.</summary>
    internal static ReadOnlySpan<byte> Last(byte[] utf8)
    {
        if (utf8.Length <= MaxBytes) return utf8;
        var start = utf8.Length - MaxBytes;
        while (start < utf8.Length && (utf8[start] & 0xC0) == 0x80) start++;
        return utf8.AsSpan(start);
    }
}
