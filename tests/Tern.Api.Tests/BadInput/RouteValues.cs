namespace Tern.Api.Tests.BadInput;

/// <summary>Good values for path placeholders: real objects the fixture created, so a request that is wrong only in
/// its body or headers gets past the lookup and reaches the code that reads them.</summary>
public sealed record RouteValues(string Function, string Victim, string ExecutionId, string ScheduleId, string Secret, string Version, string Alias)
{
    /// <summary>DELETE gets names that do not exist: the suite is about bad input, and deleting the real objects
    /// would turn every later case into a plain 404.</summary>
    public const string Ghost = "bad-ghost";

    public string For(ApiOperation operation, string placeholder)
    {
        if (operation.Method == "DELETE") return placeholder == "version" ? "99" : Ghost;
        var path = operation.Path;
        return placeholder switch
        {
            // PATCH may really change the function: it changes one that nothing else relies on.
            "name" when operation.Method == "PATCH" && path == "/v1/functions/{name}" => Victim,
            "name" when path.StartsWith("/v1/secrets/", StringComparison.Ordinal) => Secret,
            "name" => Function,
            "id" when path.StartsWith("/v1/schedules/", StringComparison.Ordinal) => ScheduleId,
            "id" when path.StartsWith("/v1/api-keys/", StringComparison.Ordinal) => Ghost,
            "id" => ExecutionId,
            "version" => Version,
            "alias" => Alias,
            // The Lambda API (/2015-03-31): PUT changes code or configuration, so it gets the victim too.
            "FunctionName" when operation.Method == "PUT" && !path.Contains("/aliases/", StringComparison.Ordinal) => Victim,
            "FunctionName" => Function,
            "Name" => Alias,
            _ => throw new InvalidOperationException($"no good value for {{{placeholder}}} in {operation.Route}: add one here"),
        };
    }
}
