using System.Diagnostics;
using System.Text;

namespace Tern.Drivers.Sandbox;

/// <summary>Drains what the sandbox launcher and agent print (never the handler's output), keeping the last few KB
/// to explain a failed start, and stdout too so a chatty process never blocks on a full pipe.</summary>
internal sealed class StderrTail
{
    private const int Keep = 8 * 1024;
    private readonly StringBuilder _text = new();

    public StderrTail(Process process)
    {
        Completion = Task.WhenAll(Drain(process.StandardError, keep: true), Drain(process.StandardOutput, keep: false));
    }

    public Task Completion { get; }

    public string Text
    {
        get { lock (_text) return _text.ToString().Trim(); }
    }

    private async Task Drain(StreamReader reader, bool keep)
    {
        var buffer = new char[4096];
        int n;
        while ((n = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            if (!keep) continue;
            lock (_text)
            {
                _text.Append(buffer, 0, n);
                if (_text.Length > 2 * Keep) _text.Remove(0, _text.Length - Keep);
            }
        }
    }
}
