namespace Tern.Drivers.Sandbox;

/// <summary>A package on this host as the sandbox mounts it: a directory (an unpacked zip) at /code, or one file at
/// /code/FileName. Resolved from the worker's <see cref="Tern.Core.Code.CodeRef"/> by the driver.</summary>
internal sealed record CodeMount(string HostPath, string? FileName)
{
    public bool IsSingleFile => FileName is not null;
}
