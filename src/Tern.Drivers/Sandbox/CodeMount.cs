namespace Tern.Drivers.Sandbox;

/// <summary>A package on this host as the sandbox mounts it: a directory (an unpacked zip) at /code, or one file at
/// /code/FileName; and the directory of what the daemon precompiled from it (mounted read-only at
/// /opt/tern/compiled when it exists). Resolved from the worker's <see cref="Tern.Core.Code.CodeRef"/> by the driver.</summary>
internal sealed record CodeMount(string HostPath, string? FileName, string? CompiledPath = null)
{
    public bool IsSingleFile => FileName is not null;
}
