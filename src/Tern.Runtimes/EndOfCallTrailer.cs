using System.Globalization;
using System.Text;

namespace Tern.Runtimes;

/// <summary>How a process-mode handler host (tern-wasm-host, given <see cref="Flag"/> and a token) tells the agent that its
/// call is over before its process has exited. Once the module's <c>_start</c> has returned or called <c>proc_exit</c>,
/// everything it wrote is in the pipes (its writes are unbuffered); the host then writes this trailer, carrying the
/// token and the exit code, as the last bytes on stderr and lets go of its stdout and stderr. The agent, seeing both
/// pipes end with it, answers at once and strips it from the stderr it reports; the process's own exit (unmapping its
/// reservations, its threads ending, the agent reaping it) happens after the answer. A host that ends without the
/// trailer (killed, crashed) is waited for as any handler.
/// <para>The token is random per call and given only on the host's command line, which the module cannot read (its argv
/// and environment are its own, and it sees no file but its event's directory): so a module cannot end its stderr
/// with a forged trailer to have a crash or kill reported as its chosen exit code.</para>
/// <para>Linked into Tern.WasmHost's build too, so both sides share one definition.</para></summary>
public static class EndOfCallTrailer
{
    /// <summary>The host option, followed by the token: <c>--report-end TOKEN</c>.</summary>
    public const string Flag = "--report-end";

    private static ReadOnlySpan<byte> Prefix => "\0tern-end-of-call:"u8;
    private const byte Separator = (byte)':';
    private const byte End = 0;
    /// <summary>The longest trailer: prefix, a 64-character token, ':', a sign and ten digits, the end byte.</summary>
    private const int MaxLength = 18 + 64 + 1 + 11 + 1;

    /// <summary>A new token (16 random bytes, hex).</summary>
    public static string NewToken() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());

    public static byte[] Format(string token, int exitCode) =>
        [.. Prefix, .. Encoding.ASCII.GetBytes(token), Separator, .. Encoding.ASCII.GetBytes(exitCode.ToString(CultureInfo.InvariantCulture)), End];

    /// <summary>Whether <paramref name="stderr"/> ends with the trailer for <paramref name="token"/>; if so, the exit code
    /// it carries and how many bytes it takes at the end.</summary>
    public static bool TryParse(ReadOnlySpan<byte> stderr, string token, out int exitCode, out int length)
    {
        exitCode = 0;
        length = 0;
        if (stderr.IsEmpty || stderr[^1] != End) return false;
        var window = stderr.Length > MaxLength ? stderr[^MaxLength..] : stderr;
        var start = window.LastIndexOf(Prefix);
        if (start < 0) return false;
        var body = window[(start + Prefix.Length)..^1];
        var tokenBytes = Encoding.ASCII.GetBytes(token);
        if (body.Length <= tokenBytes.Length || !body.StartsWith(tokenBytes) || body[tokenBytes.Length] != Separator) return false;
        if (!int.TryParse(body[(tokenBytes.Length + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exitCode)) return false;
        length = window.Length - start;
        return true;
    }
}
