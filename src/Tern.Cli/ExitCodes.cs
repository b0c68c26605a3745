namespace Tern.Cli;

/// <summary>The process exit codes `tern` uses, so scripts can tell a bad command line from a failed call.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>The server reported an error, the daemon was unreachable, or a local input was unusable.</summary>
    public const int Failure = 1;
    /// <summary>The command line itself was wrong (unknown option, missing argument...).</summary>
    public const int Usage = 2;
    /// <summary>Interrupted by Ctrl+C / SIGTERM, as shells report 128 + SIGINT.</summary>
    public const int Cancelled = 130;
}
