using Tern.Core.Functions;
using Tern.Runtimes;

namespace Tern.Core.Tests.Functions;

public sealed class FunctionValidatorTests
{
    private static readonly string[] Isolations = ["sandbox", "microvm"];

    private static FunctionSettings FullCreate() => new()
    {
        Name = "hello-world",
        Runtime = "python",
        Handler = "src/main.py",
        Code = Convert.ToBase64String("print('hi')"u8.ToArray()),
        CodeFileName = "main.py",
        MemoryMb = 256,
        Vcpus = 2,
        TimeoutMs = 10_000,
        Env = new() { ["GREETING"] = "hello", ["_PRIVATE"] = "x", ["A1"] = "y" },
        Mode = ExecutionModes.Persistent,
        MinReplicas = 1,
        MaxReplicas = 5,
        Concurrency = 8,
        QueueSize = 50,
        MaxRetries = 2,
        Isolation = "sandbox",
    };

    private static Dictionary<string, string[]> Validate(FunctionSettings s, bool creating = true) =>
        FunctionValidator.Validate(s, creating, Isolations);

    private static Dictionary<string, string[]> ValidateField(Action<FunctionSettings> set)
    {
        var s = new FunctionSettings();
        set(s);
        return Validate(s, creating: false);
    }

    [Fact]
    public void Validate_FullValidCreate_ReturnsNoErrors()
    {
        var errors = Validate(FullCreate());

        Assert.Empty(errors);
    }

    [Fact]
    public void Validate_MinimalCreate_ReturnsNoErrors()
    {
        var errors = Validate(new FunctionSettings { Name = "f", Runtime = "node", Code = "AA==" });

        Assert.Empty(errors);
    }

    [Fact]
    public void Validate_CreateWithNothing_RequiresNameRuntimeAndCode()
    {
        var errors = Validate(new FunctionSettings());

        Assert.Equal(["code", "name", "runtime"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["name is required."], errors["name"]);
        Assert.Equal(["runtime is required."], errors["runtime"]);
        Assert.Contains("code is required", Assert.Single(errors["code"]));
    }

    [Fact]
    public void Validate_CreateWithEmptyStrings_RequiresNameRuntimeAndCode()
    {
        var errors = Validate(new FunctionSettings { Name = "", Runtime = "", Code = "" });

        Assert.Equal(["name is required."], errors["name"]);
        Assert.Equal(["runtime is required."], errors["runtime"]);
        Assert.True(errors.ContainsKey("code"));
    }

    [Fact]
    public void Validate_PatchWithAllSettingsNull_ReturnsNoErrors()
    {
        var errors = Validate(new FunctionSettings(), creating: false);

        Assert.Empty(errors);
    }

    [Fact]
    public void Validate_PatchWithInvalidName_ReportsName()
    {
        var errors = Validate(new FunctionSettings { Name = "Bad" }, creating: false);

        Assert.Equal(["name must match ^[a-z0-9][a-z0-9_-]{0,63}$."], errors["name"]);
    }

    [Theory]
    [InlineData("UPPER")]
    [InlineData("-dash")]
    [InlineData("_under")]
    [InlineData("has.dot")]
    public void Validate_CreateWithInvalidName_ReportsNameOnly(string name)
    {
        var s = FullCreate();
        s.Name = name;

        var errors = Validate(s);

        Assert.Equal("name", Assert.Single(errors).Key);
        Assert.Contains("must match", Assert.Single(errors["name"]));
    }

    [Fact]
    public void Validate_Name64Chars_Accepted_65Chars_Rejected()
    {
        Assert.Empty(ValidateField(s => s.Name = new string('x', 64)));
        Assert.True(ValidateField(s => s.Name = new string('x', 65)).ContainsKey("name"));
    }

    [Fact]
    public void Validate_NameWithUnderscoreAfterFirstChar_Accepted()
    {
        Assert.Empty(ValidateField(s => s.Name = "my_func"));
    }

    [Fact]
    public void Validate_UnknownRuntime_MessageListsKnownRuntimes()
    {
        var errors = ValidateField(s => s.Runtime = "cobol");

        var message = Assert.Single(errors["runtime"]);
        Assert.StartsWith("unknown runtime 'cobol'; known: ", message);
        Assert.NotEmpty(RuntimeCatalog.Names);
        foreach (var known in RuntimeCatalog.Names) Assert.Contains(known, message);
        Assert.Contains("python", message);
        Assert.Contains("node", message);
    }

    [Theory]
    [InlineData("python")]
    [InlineData("node")]
    [InlineData("dotnet")]
    [InlineData("java")]
    [InlineData("go")]
    [InlineData("rust")]
    [InlineData("binary")]
    [InlineData("wasm")]
    public void Validate_KnownRuntime_Accepted(string runtime) => Assert.Empty(ValidateField(s => s.Runtime = runtime));

    [Theory]
    [InlineData("memoryMb", 127, false)]
    [InlineData("memoryMb", 128, true)]
    [InlineData("memoryMb", 10240, true)]
    [InlineData("memoryMb", 10241, false)]
    [InlineData("vcpus", 0, false)]
    [InlineData("vcpus", 1, true)]
    [InlineData("vcpus", 8, true)]
    [InlineData("vcpus", 9, false)]
    [InlineData("timeoutMs", 0, false)]
    [InlineData("timeoutMs", 1, true)]
    [InlineData("timeoutMs", 900000, true)]
    [InlineData("timeoutMs", 900001, false)]
    [InlineData("minReplicas", -1, false)]
    [InlineData("minReplicas", 0, true)]
    [InlineData("minReplicas", 1000, true)]
    [InlineData("minReplicas", 1001, false)]
    [InlineData("maxReplicas", 0, false)]
    [InlineData("maxReplicas", 1, true)]
    [InlineData("maxReplicas", 1000, true)]
    [InlineData("maxReplicas", 1001, false)]
    [InlineData("concurrency", 0, false)]
    [InlineData("concurrency", 1, true)]
    [InlineData("concurrency", 1000, true)]
    [InlineData("concurrency", 1001, false)]
    [InlineData("queueSize", -1, false)]
    [InlineData("queueSize", 0, true)]
    [InlineData("queueSize", 100000, true)]
    [InlineData("queueSize", 100001, false)]
    [InlineData("maxRetries", -1, false)]
    [InlineData("maxRetries", 0, true)]
    [InlineData("maxRetries", 10, true)]
    [InlineData("maxRetries", 11, false)]
    public void Validate_NumericBound_AcceptsOnlyInsideRange(string field, int value, bool valid)
    {
        var errors = ValidateField(s =>
        {
            switch (field)
            {
                case "memoryMb": s.MemoryMb = value; break;
                case "vcpus": s.Vcpus = value; break;
                case "timeoutMs": s.TimeoutMs = value; break;
                case "minReplicas": s.MinReplicas = value; break;
                case "maxReplicas": s.MaxReplicas = value; break;
                case "concurrency": s.Concurrency = value; break;
                case "queueSize": s.QueueSize = value; break;
                case "maxRetries": s.MaxRetries = value; break;
                default: throw new ArgumentException(field);
            }
        });

        if (valid)
        {
            Assert.Empty(errors);
        }
        else
        {
            Assert.Equal(field, Assert.Single(errors).Key);
            Assert.Matches($"^{field} must be between -?\\d+ and \\d+\\.$", Assert.Single(errors[field]));
        }
    }

    [Fact]
    public void Validate_MemoryOutOfRange_MessageNamesTheBounds()
    {
        var errors = ValidateField(s => s.MemoryMb = 64);

        Assert.Equal(["memoryMb must be between 128 and 10240."], errors["memoryMb"]);
    }

    [Fact]
    public void Validate_MinReplicasGreaterThanMaxReplicas_ReportsMinReplicas()
    {
        var errors = ValidateField(s => { s.MinReplicas = 5; s.MaxReplicas = 3; });

        Assert.Equal(["minReplicas must not exceed maxReplicas."], errors["minReplicas"]);
        Assert.False(errors.ContainsKey("maxReplicas"));
    }

    [Fact]
    public void Validate_MinReplicasEqualToMaxReplicas_Accepted()
    {
        Assert.Empty(ValidateField(s => { s.MinReplicas = 3; s.MaxReplicas = 3; }));
    }

    [Fact]
    public void Validate_MinReplicasOutOfRangeAndAboveMax_ReportsBothMessages()
    {
        var errors = ValidateField(s => { s.MinReplicas = 1001; s.MaxReplicas = 2; });

        Assert.Equal(2, errors["minReplicas"].Length);
        Assert.Contains("minReplicas must not exceed maxReplicas.", errors["minReplicas"]);
    }

    [Fact]
    public void Validate_UnknownIsolation_ListsAvailableOnes()
    {
        var errors = ValidateField(s => s.Isolation = "docker");

        Assert.Equal(["unknown isolation 'docker'; available: sandbox, microvm."], errors["isolation"]);
    }

    [Fact]
    public void Validate_IsolationFromTheAvailableSet_Accepted()
    {
        Assert.Empty(ValidateField(s => s.Isolation = "microvm"));
    }

    [Theory]
    [InlineData("process", true)]
    [InlineData("persistent", true)]
    [InlineData("Process", false)]
    [InlineData("daemon", false)]
    public void Validate_Mode_AcceptsOnlyKnownModes(string mode, bool valid)
    {
        var errors = ValidateField(s => s.Mode = mode);

        Assert.Equal(valid, !errors.ContainsKey("mode"));
    }

    [Theory]
    [InlineData("PATH")]
    [InlineData("_X")]
    [InlineData("a")]
    [InlineData("MY_VAR_2")]
    public void Validate_ValidEnvName_Accepted(string key)
    {
        Assert.Empty(ValidateField(s => s.Env = new() { [key] = "v" }));
    }

    [Theory]
    [InlineData("")]
    [InlineData("1ABC")]
    [InlineData("MY-VAR")]
    [InlineData("MY VAR")]
    [InlineData("A=B")]
    [InlineData("ÄPFEL")]
    public void Validate_InvalidEnvName_ReportsTheKey(string key)
    {
        var errors = ValidateField(s => s.Env = new() { ["GOOD"] = "1", [key] = "v" });

        Assert.Equal([$"'{key}' is not a valid environment variable name."], errors["env"]);
    }

    [Fact]
    public void Validate_EnvName256Chars_Accepted_257Chars_Rejected()
    {
        Assert.Empty(ValidateField(s => s.Env = new() { [new string('A', 256)] = "v" }));
        Assert.True(ValidateField(s => s.Env = new() { [new string('A', 257)] = "v" }).ContainsKey("env"));
    }

    [Fact]
    public void Validate_SeveralInvalidEnvNames_ReportsEachOne()
    {
        var errors = ValidateField(s => s.Env = new() { ["1A"] = "v", ["B-C"] = "v" });

        Assert.Equal(2, errors["env"].Length);
    }

    [Fact]
    public void Validate_TooManyEnvEntries_Reported()
    {
        var env = Enumerable.Range(0, FunctionLimits.MaxEnvEntries + 1).ToDictionary(i => $"V{i}", _ => "x");

        var errors = ValidateField(s => s.Env = env);

        Assert.Equal([$"at most {FunctionLimits.MaxEnvEntries} variables."], errors["env"]);
    }

    [Fact]
    public void Validate_MaxEnvEntries_Accepted()
    {
        var env = Enumerable.Range(0, FunctionLimits.MaxEnvEntries).ToDictionary(i => $"V{i}", _ => "x");

        Assert.Empty(ValidateField(s => s.Env = env));
    }

    [Theory]
    [InlineData("../main.py")]
    [InlineData("/etc/passwd")]
    [InlineData("")]
    public void Validate_UnsafeHandler_Reported(string handler)
    {
        var errors = ValidateField(s => s.Handler = handler);

        Assert.Equal(["handler must be a relative path inside the code package."], errors["handler"]);
    }

    [Theory]
    [InlineData("main.py", true)]
    [InlineData("dir/main.py", false)]
    [InlineData("../main.py", false)]
    [InlineData("", false)]
    public void Validate_CodeFileName_MustBeAPlainFileName(string fileName, bool valid)
    {
        var errors = ValidateField(s => s.CodeFileName = fileName);

        Assert.Equal(valid, !errors.ContainsKey("codeFileName"));
    }

    [Fact]
    public void Validate_SeveralBadFields_ReportsEveryOne()
    {
        var s = FullCreate();
        s.Name = "Bad";
        s.MemoryMb = 1;
        s.Vcpus = 100;
        s.Isolation = "none";

        var errors = Validate(s);

        Assert.Equal(["isolation", "memoryMb", "name", "vcpus"], errors.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("a/b.py")]
    [InlineData("main.py")]
    [InlineData("a/b/c/d")]
    [InlineData("..hidden")]
    [InlineData(".env")]
    public void IsSafeRelativePath_RelativePathInside_ReturnsTrue(string path) =>
        Assert.True(FunctionValidator.IsSafeRelativePath(path));

    [Theory]
    [InlineData("")]
    [InlineData("..")]
    [InlineData("../x")]
    [InlineData("a/..")]
    [InlineData("a/../b")]
    [InlineData("/abs")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("a\\b")]
    [InlineData("./a")]
    [InlineData("a/./b")]
    [InlineData("a\0b")]
    public void IsSafeRelativePath_EscapingOrMalformedPath_ReturnsFalse(string path) =>
        Assert.False(FunctionValidator.IsSafeRelativePath(path));

    [Fact]
    public void IsSafeRelativePath_LongerThan255_ReturnsFalse()
    {
        Assert.True(FunctionValidator.IsSafeRelativePath(new string('a', 255)));
        Assert.False(FunctionValidator.IsSafeRelativePath(new string('a', 256)));
    }
}
