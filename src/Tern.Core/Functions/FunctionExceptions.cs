namespace Tern.Core.Functions;

/// <summary>Input that breaks the function model; Errors maps each bad field to what is wrong with it.</summary>
public sealed class FunctionValidationException(IReadOnlyDictionary<string, string[]> errors)
    : Exception("the function definition is invalid")
{
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;

    public FunctionValidationException(string field, string message) : this(new Dictionary<string, string[]> { [field] = [message] }) { }
}

public sealed class FunctionNotFoundException(string name) : Exception($"function '{name}' does not exist")
{
    public string Name { get; } = name;
}

public sealed class FunctionAlreadyExistsException(string name) : Exception($"function '{name}' already exists")
{
    public string Name { get; } = name;
}
