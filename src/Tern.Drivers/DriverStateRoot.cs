namespace Tern.Drivers;

/// <summary>The directory under which drivers keep per-worker state (sockets, code slots) unless their own settings
/// name one: the host puts it inside its data directory, so it shares that directory's 0700.</summary>
public sealed record DriverStateRoot(string Directory);
