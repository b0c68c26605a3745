namespace Tern.Core.Functions;

/// <summary>process: a fresh handler process per call; persistent: a long-lived handler per worker.</summary>
public static class ExecutionModes
{
    public const string Process = "process";
    public const string Persistent = "persistent";

    public static bool IsKnown(string mode) => mode is Process or Persistent;
}
