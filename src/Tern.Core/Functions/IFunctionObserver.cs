namespace Tern.Core.Functions;

/// <summary>Told after a function is created, updated or deleted (current is null then), so caches and warm pools follow.</summary>
public interface IFunctionObserver
{
    void OnFunctionChanged(string name, FunctionDefinition? current);
}
