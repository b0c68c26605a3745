namespace Tern.Testing;

/// <summary>Waits for work another thread finishes (a worker's agent answering, a continuation after a fake-clock
/// advance). Not a sleep: it returns as soon as the condition holds, and fails the test after a generous real limit.</summary>
public static class Eventually
{
    public static Task TrueAsync(Func<bool> condition, string what, int timeoutMs = 5000) =>
        TrueAsync(() => Task.FromResult(condition()), what, timeoutMs);

    public static async Task TrueAsync(Func<Task<bool>> condition, string what, int timeoutMs = 5000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!await condition())
        {
            if (Environment.TickCount64 > deadline) throw new TimeoutException($"timed out waiting for: {what}");
            await Task.Delay(1);
        }
    }
}
