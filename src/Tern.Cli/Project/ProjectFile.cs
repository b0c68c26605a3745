using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Tern.Cli.Project;

/// <summary>A tern.yaml: the functions, aliases and schedules `tern apply` makes the daemon match.</summary>
internal sealed class ProjectFile
{
    public List<FunctionSpec>? Functions { get; set; }
}

/// <summary>One function: any function field (camelCase as in the API), with <see cref="Code"/> a path relative
/// to the yaml file instead of base64, plus the function's aliases and schedules.</summary>
internal sealed class FunctionSpec
{
    public string? Name { get; set; }
    public string? Runtime { get; set; }
    public string? Code { get; set; }
    public string? Handler { get; set; }
    public int? MemoryMb { get; set; }
    public int? Vcpus { get; set; }
    public int? TimeoutMs { get; set; }
    public Dictionary<string, string>? Env { get; set; }
    public string? Mode { get; set; }
    public int? MinReplicas { get; set; }
    public int? MaxReplicas { get; set; }
    public int? Concurrency { get; set; }
    public int? InstanceConcurrency { get; set; }
    public int? QueueSize { get; set; }
    public int? MaxRetries { get; set; }
    public string? Isolation { get; set; }
    public int? RateLimitPerSecond { get; set; }
    /// <summary>As in the API: <c>egress</c>, or <c>{mode: egress, allow: [10.1.2.3/32, ...]}</c>.</summary>
    public JsonNode? Network { get; set; }
    /// <summary>With <c>isolation: kubernetes</c>: <c>{style: warm}</c> (the default) or <c>{style: job}</c>.</summary>
    public KubernetesSpec? Kubernetes { get; set; }
    public Dictionary<string, AliasSpec>? Aliases { get; set; }
    public List<ScheduleSpec>? Schedules { get; set; }
}

internal sealed class KubernetesSpec
{
    public string? Style { get; set; }
}

internal sealed class AliasSpec
{
    public int? Version { get; set; }
    public int? AdditionalVersion { get; set; }
    public int? AdditionalWeight { get; set; }
}

internal sealed class ScheduleSpec
{
    public string? Expression { get; set; }
    public string? Timezone { get; set; }
    public JsonNode? Payload { get; set; }
}

/// <summary>Reads a tern.yaml strictly: an unknown key or a wrong type is a <see cref="CliException"/> naming the line.</summary>
internal static partial class ProjectFileReader
{
    public static ProjectFile Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read '{path}': {e.Message}");
        }
        return Parse(text, path);
    }

    public static ProjectFile Parse(string yaml, string fileName)
    {
        var deserializer = new DeserializerBuilder()
            .WithNamingConvention(CamelCaseNamingConvention.Instance)
            .WithTypeConverter(new JsonNodeConverter())
            .Build();
        ProjectFile? project;
        try
        {
            project = deserializer.Deserialize<ProjectFile?>(yaml);
        }
        catch (YamlException e)
        {
            var message = (e.InnerException is YamlException inner ? inner.Message : e.InnerException?.Message) ?? e.Message;
            message = LocationPrefix().Replace(message, "");
            if (PropertyNotFound().Match(message) is { Success: true } unknown) message = $"unknown key '{unknown.Groups[1].Value}'";
            throw new CliException($"{fileName}: line {e.Start.Line}, column {e.Start.Column}: {OneLine(message)}");
        }
        Validate(project, fileName);
        return project!;
    }

    private static void Validate(ProjectFile? project, string fileName)
    {
        if (project?.Functions is not { Count: > 0 } functions)
            throw new CliException($"{fileName}: no functions (expected a 'functions:' list)");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < functions.Count; i++)
        {
            var f = functions[i];
            if (string.IsNullOrWhiteSpace(f.Name)) throw new CliException($"{fileName}: functions[{i}] has no name");
            if (!seen.Add(f.Name)) throw new CliException($"{fileName}: function '{f.Name}' is listed twice");
            foreach (var (alias, spec) in f.Aliases ?? [])
            {
                if (spec.Version is null) throw new CliException($"{fileName}: function '{f.Name}', alias '{alias}' has no version");
                if ((spec.AdditionalVersion is null) != (spec.AdditionalWeight is null))
                    throw new CliException($"{fileName}: function '{f.Name}', alias '{alias}': additionalVersion and additionalWeight go together");
            }
            foreach (var schedule in f.Schedules ?? [])
                if (string.IsNullOrWhiteSpace(schedule.Expression))
                    throw new CliException($"{fileName}: function '{f.Name}' has a schedule without an expression");
        }
    }

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex LocationPrefix();

    [GeneratedRegex(@"^Property '([^']*)' not found on type")]
    private static partial Regex PropertyNotFound();

    /// <summary>Reads any YAML value (a schedule payload) as JSON, typing plain scalars as YAML 1.2 core does.</summary>
    private sealed partial class JsonNodeConverter : IYamlTypeConverter
    {
        public bool Accepts(Type type) => type == typeof(JsonNode);

        public object? ReadYaml(IParser parser, Type type, ObjectDeserializer rootDeserializer) => Read(parser);

        public void WriteYaml(IEmitter emitter, object? value, Type type, ObjectSerializer serializer) =>
            throw new NotSupportedException();

        private static JsonNode? Read(IParser parser)
        {
            if (parser.TryConsume<Scalar>(out var scalar)) return ScalarNode(scalar);
            if (parser.TryConsume<SequenceStart>(out _))
            {
                var array = new JsonArray();
                while (!parser.TryConsume<SequenceEnd>(out _)) array.Add(Read(parser));
                return array;
            }
            if (parser.TryConsume<MappingStart>(out _))
            {
                var obj = new JsonObject();
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var key = parser.Consume<Scalar>();
                    obj[key.Value] = Read(parser);
                }
                return obj;
            }
            var current = parser.Current;
            throw new YamlException(current?.Start ?? Mark.Empty, current?.End ?? Mark.Empty, "unsupported YAML in payload (anchors and aliases are not supported)");
        }

        private static JsonNode? ScalarNode(Scalar scalar)
        {
            var v = scalar.Value;
            if (!scalar.IsPlainImplicit || scalar.Style is not ScalarStyle.Plain) return JsonValue.Create(v);
            if (v is "" or "~" or "null" or "Null" or "NULL") return null;
            if (v is "true" or "True" or "TRUE") return JsonValue.Create(true);
            if (v is "false" or "False" or "FALSE") return JsonValue.Create(false);
            if (IntPattern().IsMatch(v) && long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
                return JsonValue.Create(l);
            if (FloatPattern().IsMatch(v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
                return JsonValue.Create(d);
            return JsonValue.Create(v);
        }

        [GeneratedRegex(@"^[-+]?[0-9]+$")]
        private static partial Regex IntPattern();

        [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
        private static partial Regex FloatPattern();
    }
}
