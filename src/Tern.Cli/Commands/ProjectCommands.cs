using System.CommandLine;
using System.Text.RegularExpressions;
using Tern.Cli.Project;

namespace Tern.Cli.Commands;

/// <summary>`tern init NAME --runtime R [--dir PATH]` scaffolds a function folder with a tern.yaml;
/// `tern apply -f tern.yaml [--dry-run] [--prune]` makes the daemon match it.</summary>
internal static partial class ProjectCommands
{
    public const string FileName = "tern.yaml";

    public static IEnumerable<Command> Create(CliContext context) => [InitCommand(context), ApplyCommand(context)];

    private static Command InitCommand(CliContext context)
    {
        var name = new Argument<string>("name") { Description = "Function name", HelpName = "NAME" };
        var runtime = new Option<string>("--runtime") { Description = "Runtime", Required = true }
            .AcceptOnlyFromAmong([.. Templates.Keys]);
        var dir = new Option<string?>("--dir") { Description = "Folder to create (default ./NAME)", HelpName = "PATH" };
        var command = new Command("init", "Scaffold a function folder: a hello handler and a tern.yaml") { name, runtime, dir };
        command.SetAction(result =>
        {
            var functionName = result.GetValue(name)!;
            if (!NamePattern().IsMatch(functionName))
                throw new CliException($"invalid function name '{functionName}' (lowercase letters, digits, '-' and '_', at most 64)", ExitCodes.Usage);
            var target = result.GetValue(dir) ?? functionName;
            Init(context.Stdout, functionName, result.GetValue(runtime)!, target);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command ApplyCommand(CliContext context)
    {
        var file = new Option<string>("--file", "-f") { Description = "The project file", HelpName = "FILE", DefaultValueFactory = _ => FileName };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan and change nothing" };
        var prune = new Option<bool>("--prune") { Description = "Remove the functions' schedules that the file does not list" };
        var command = new Command("apply", "Create or update the functions, aliases and schedules a tern.yaml describes") { file, dryRun, prune };
        command.SetAction(async (result, ct) =>
        {
            var path = result.GetValue(file)!;
            if (!File.Exists(path)) throw new CliException($"'{path}' does not exist (create one with `tern init`)");
            var project = ProjectFileReader.Load(path);
            using var client = context.CreateClient(result);
            var steps = await ApplyPlanner.PlanAsync(client, project, path, result.GetValue(prune), ct);
            var dry = result.GetValue(dryRun);
            foreach (var step in steps)
            {
                context.Stdout.WriteLine(step.Line);
                if (!dry && step.Execute is not null) await step.Execute(ct);
            }
            if (dry) context.Stdout.WriteLine("dry run: nothing was changed");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Writes the template files (keeping any that already exist) and the tern.yaml (never overwritten).</summary>
    internal static void Init(TextWriter stdout, string name, string runtime, string directory)
    {
        var template = Templates[runtime];
        var yamlPath = Path.Combine(directory, FileName);
        if (File.Exists(yamlPath)) throw new CliException($"'{yamlPath}' already exists; not overwriting it");
        try
        {
            Directory.CreateDirectory(directory);
            foreach (var resource in template.Files)
            {
                var relative = resource[(resource.IndexOf('/', "templates/".Length) + 1)..];
                var path = Path.Combine(directory, relative);
                if (File.Exists(path)) continue;
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                using (var source = typeof(ProjectCommands).Assembly.GetManifestResourceStream(resource)
                    ?? throw new InvalidOperationException($"missing template {resource}"))
                using (var target = File.Create(path))
                {
                    source.CopyTo(target);
                }
                if (relative == "bootstrap")
                    File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            }
            if (template.BuildNote is { } note && !File.Exists(Path.Combine(directory, "README.md")))
                File.WriteAllText(Path.Combine(directory, "README.md"),
                    $"# {name}\n\nA Tern function for the `{runtime}` runtime. It is compiled, so build it before `tern apply`:\n\n" +
                    $"```sh\n{note}\ntern apply -f tern.yaml\n```\n\n`code:` in tern.yaml names the build output that is uploaded.\n");
            File.WriteAllText(yamlPath, Yaml(name, runtime, template));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write to '{directory}': {e.Message}");
        }
        stdout.WriteLine($"created {yamlPath}; next: tern apply -f {yamlPath}");
    }

    private static string Yaml(string name, string runtime, Template template) => $"""
        # Tern project file: `tern apply -f tern.yaml` creates or updates what it describes (--dry-run shows the plan).
        functions:
          - name: {name}
            runtime: {runtime}
            code: {template.Code}        # relative to this file: a directory (zipped), a .zip or a single file
            handler: {template.Handler}
            memoryMb: 128
            env: {"{"}GREETING: hi{"}"}
            # aliases:                     # after `tern version publish {name}`
            #   prod: {"{"}version: 1{"}"}
            # schedules:
            #   - expression: "@every 5m"
            #     timezone: UTC
            #     payload: {"{"}name: cron{"}"}

        """;

    private sealed record Template(string Code, string Handler, string[] Files, string? BuildNote = null);

    private static readonly Dictionary<string, Template> Templates = new(StringComparer.Ordinal)
    {
        ["python"] = new(".", "main.py", ["templates/python/main.py"]),
        ["node"] = new(".", "index.js", ["templates/node/index.js"]),
        ["java"] = new("Hello.java", "Hello.java", ["templates/java/Hello.java"]),
        ["binary"] = new(".", "bootstrap", ["templates/binary/bootstrap"]),
        ["go"] = new("bootstrap", "bootstrap", ["templates/go/main.go", "templates/go/go.mod"],
            "CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -o bootstrap ."),
        ["rust"] = new("bootstrap", "bootstrap", ["templates/rust/Cargo.toml", "templates/rust/src/main.rs"],
            "cargo build --release --target x86_64-unknown-linux-musl\ncp target/x86_64-unknown-linux-musl/release/hello bootstrap"),
        ["dotnet"] = new("publish", "Hello.dll", ["templates/dotnet/Hello.csproj", "templates/dotnet/Program.cs"],
            "dotnet publish -c Release -o publish"),
        ["wasm"] = new("module.wasm", "module.wasm", ["templates/wasm/hello.wat"], "wat2wasm hello.wat -o module.wasm"),
    };

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")]
    private static partial Regex NamePattern();
}
