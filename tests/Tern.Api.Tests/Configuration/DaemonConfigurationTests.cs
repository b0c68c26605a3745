using System.Collections;
using Tern.Api.Configuration;
using Tern.Api.Hosting;
using Tern.Core.Settings;
using Tern.Invocation.Admission;
using Tern.Invocation.Callbacks;
using Tern.Pools;

namespace Tern.Api.Tests.Configuration;

/// <summary>The configuration pipeline: flags > TERN_* environment > config file > defaults, every value checked at
/// load with one line naming the setting, its value and its origin.</summary>
public sealed class DaemonConfigurationTests : IDisposable
{
    private static readonly SettingsSection[] Sections =
    [
        new(DaemonOptions.Section, typeof(DaemonOptions)),
        new(PoolOptions.Section, typeof(PoolOptions)),
        new(AdmissionOptions.Section, typeof(AdmissionOptions)),
        new(CallbackOptions.Section, typeof(CallbackOptions)),
    ];

    private readonly string _dir = Directory.CreateTempSubdirectory("tern-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string File(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    private static DaemonConfiguration Load(ConfigLayer? flags = null, string? file = null, Hashtable? environment = null) =>
        DaemonConfiguration.Load(Sections, flags ?? new ConfigLayer("flags"), file, environment ?? new Hashtable());

    private static string ValueOf(DaemonConfiguration configuration, string key) =>
        configuration.Effective().Single(e => e.Setting.DisplayKey == key).Value;

    private static string SourceOf(DaemonConfiguration configuration, string key) =>
        configuration.Effective().Single(e => e.Setting.DisplayKey == key).Source;

    [Fact]
    public void Nothing_Given_EverySettingIsItsDefault()
    {
        var configuration = Load();
        Assert.All(configuration.Effective(), e => Assert.Equal("default", e.Source));
        Assert.Equal(TimeSpan.FromSeconds(60), configuration.Get<PoolOptions>("pools").IdleTtl);
        Assert.Equal("127.0.0.1:8080", ValueOf(configuration, "daemon.listen"));
    }

    [Fact]
    public void FlagBeatsEnvironment_WhichBeatsTheFile_WhichBeatsTheDefault()
    {
        var file = File("tern-daemon.yaml", """
            daemon:
              listen: 127.0.0.1:7001
              dataDir: /srv/from-file
            pools:
              idleTtl: 00:00:30
              pingInterval: 00:00:05
            """);
        var environment = new Hashtable { ["TERN_LISTEN"] = "127.0.0.1:7002", ["TERN_POOLS_IDLE_TTL"] = "00:02:00" };
        var flags = new ConfigLayer("flags");
        flags.Set("daemon:listen", "127.0.0.1:7003", "--listen");

        var configuration = Load(flags, file, environment);

        Assert.Equal("127.0.0.1:7003", ValueOf(configuration, "daemon.listen"));
        Assert.Equal("--listen", SourceOf(configuration, "daemon.listen"));
        Assert.Equal("00:02:00", ValueOf(configuration, "pools.idleTtl"));
        Assert.Equal("env TERN_POOLS_IDLE_TTL", SourceOf(configuration, "pools.idleTtl"));
        Assert.Equal("00:00:05", ValueOf(configuration, "pools.pingInterval"));
        Assert.Equal("file " + file, SourceOf(configuration, "pools.pingInterval"));
        Assert.Equal("/srv/from-file", configuration.Get<DaemonOptions>("daemon").DataDir);
        Assert.Equal("default", SourceOf(configuration, "pools.pingTimeout"));
    }

    [Fact]
    public void JsonFile_AndTheConfigFileVariable_Work()
    {
        var file = File("tern.json", """{ "admission": { "globalRateLimitPerSecond": 250 }, "callbacks": { "allow": ["hooks.internal"] } }""");
        var configuration = Load(environment: new Hashtable { [DaemonConfiguration.ConfigFileVariable] = file });
        Assert.Equal(250, configuration.Get<AdmissionOptions>("admission").GlobalRateLimitPerSecond);
        Assert.Equal(["hooks.internal"], configuration.Get<CallbackOptions>("callbacks").Allow);
    }

    [Fact]
    public void LegacyVariables_StillWork_AndListsAreCommaSeparated()
    {
        var configuration = Load(environment: new Hashtable
        {
            ["TERN_RATE_LIMIT"] = "40", ["TERN_CALLBACK_ALLOW"] = "a.internal, 10.0.0.0/8", ["TERN_MAX_MESSAGE_BYTES"] = "1048576",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://collector:4318",
        });
        Assert.Equal(40, configuration.Get<AdmissionOptions>("admission").GlobalRateLimitPerSecond);
        Assert.Equal(["a.internal", "10.0.0.0/8"], configuration.Get<CallbackOptions>("callbacks").Allow);
        Assert.Equal(1048576, configuration.Get<PoolOptions>("pools").MaxMessageBytes);
        Assert.Equal("http://collector:4318", configuration.Get<DaemonOptions>("daemon").OtlpEndpoint);
        Assert.Equal("env OTEL_EXPORTER_OTLP_ENDPOINT", SourceOf(configuration, "daemon.otlpEndpoint"));
    }

    [Fact]
    public void ValueOfTheWrongType_NamesTheSettingTheValueAndItsOrigin()
    {
        var failed = Assert.Throws<DaemonConfigurationException>(() => Load(environment: new Hashtable { ["TERN_RATE_LIMIT"] = "lots" }));
        Assert.Equal("admission.globalRateLimitPerSecond = 'lots' (env TERN_RATE_LIMIT): expected a whole number", failed.Message);
    }

    [Fact]
    public void Store_APostgresPassword_IsNeverPrinted_NorQuotedInAnError()
    {
        var url = Load(environment: new Hashtable { ["TERN_STORE"] = "postgres://tern:hunter2@db:5432/tern" });
        Assert.Equal("postgres://tern:***@db:5432/tern", ValueOf(url, "daemon.store"));
        Assert.Equal("postgres://tern:hunter2@db:5432/tern", url.Get<DaemonOptions>("daemon").Store); // bound as given

        var keywords = Load(environment: new Hashtable { ["TERN_STORE"] = "Host=db;Password=hunter2;Database=tern" });
        Assert.Equal("Host=db;Password=***;Database=tern", ValueOf(keywords, "daemon.store"));

        var e = Assert.Throws<DaemonConfigurationException>(() =>
            Load(environment: new Hashtable { ["TERN_STORE"] = "Host=db;Password=hunter2;Colour=blue" }));
        Assert.StartsWith("daemon.store = 'Host=db;Password=***;Colour=blue' (env TERN_STORE): the store setting is not a usable Postgres connection string", e.Message);
        Assert.DoesNotContain("hunter2", e.Message);
    }

    [Fact]
    public void ValueOutOfRange_NamesTheRange()
    {
        var file = File("d.yaml", "pools:\n  templatesPerDriver: 500\n");
        var failed = Assert.Throws<DaemonConfigurationException>(() => Load(file: file));
        Assert.Equal($"pools.templatesPerDriver = '500' (file {file}): must be between 0 and 64.", failed.Message);
    }

    [Fact]
    public void BadDuration_SaysWhatADurationLooksLike()
    {
        var failed = Assert.Throws<DaemonConfigurationException>(() => Load(environment: new Hashtable { ["TERN_POOLS_PING_TIMEOUT"] = "2s" }));
        Assert.StartsWith("pools.pingTimeout = '2s' (env TERN_POOLS_PING_TIMEOUT): expected a duration", failed.Message);
    }

    [Fact]
    public void BadEnumValue_ListsTheChoices()
    {
        var flags = new ConfigLayer("flags");
        flags.Set("daemon:auth", "maybe", "--auth");
        var failed = Assert.Throws<DaemonConfigurationException>(() => Load(flags));
        Assert.Equal("daemon.auth = 'maybe' (--auth): expected one of auto, on, off", failed.Message);
    }

    [Theory]
    [InlineData("pools:\n  idelTtl: 00:00:05\n", "pools.idelTtl")]
    [InlineData("pool:\n  idleTtl: 00:00:05\n", "pool.idleTtl")]
    public void UnknownSetting_InTheFile_IsRefusedByName(string yaml, string key)
    {
        var file = File("d.yaml", yaml);
        var failed = Assert.Throws<DaemonConfigurationException>(() => Load(file: file));
        Assert.Equal($"unknown setting '{key}' (file {file}); `tern daemon --print-config` lists them all", failed.Message);
    }

    [Fact]
    public void MalformedOrMissingFile_IsOneLineNamingTheFile()
    {
        var broken = File("broken.yaml", "pools: [\n");
        Assert.StartsWith($"config file {broken}: not valid YAML", Assert.Throws<DaemonConfigurationException>(() => Load(file: broken)).Message);
        var badJson = File("broken.json", "{ \"pools\": ");
        Assert.StartsWith($"config file {badJson}: not valid JSON", Assert.Throws<DaemonConfigurationException>(() => Load(file: badJson)).Message);
        var missing = Path.Combine(_dir, "missing.yaml");
        Assert.StartsWith($"config file {missing}:", Assert.Throws<DaemonConfigurationException>(() => Load(file: missing)).Message);
    }

    [Fact]
    public void EverySetting_HasADescription_AndOneEnvironmentVariableOfItsOwn()
    {
        var settings = Load().Settings;
        Assert.All(settings, s => Assert.False(string.IsNullOrWhiteSpace(s.Description), s.DisplayKey));
        var variables = settings.SelectMany(s => s.EnvironmentVariables).ToList();
        Assert.Equal(variables.Count, variables.Distinct().Count());
    }

    [Fact]
    public void EverySettingOfEveryLayer_IsListedInTheReadme_WithItsVariable()
    {
        var readme = System.IO.File.ReadAllText(Path.Combine(Tern.Testing.RepoPaths.Root, "README.md"));
        var all = DaemonConfiguration.Load(DaemonHost.SettingsSections(), new ConfigLayer("flags"), null, new Hashtable()).Settings;
        Assert.Contains(all, s => s.DisplayKey == "sandbox.bubblewrapPath"); // the layers' sections, not only this test's
        Assert.All(all, s =>
        {
            Assert.Contains($"| `{s.DisplayKey}` |", readme);
            Assert.Contains($"`{s.EnvironmentVariables[0]}`", readme);
        });
    }
}
