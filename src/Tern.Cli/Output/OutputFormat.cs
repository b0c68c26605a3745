namespace Tern.Cli.Output;

/// <summary>The -o|--output choices.</summary>
internal enum OutputFormat
{
    Table,
    Json,
    Yaml,
}
