namespace Tern.Api.Tests.BadInput;

/// <summary>Cases that keep the body a valid JSON object and get one property wrong: its type, an extreme or
/// huge value, odd text. Every documented property of every request body gets each of its kind's values.</summary>
public static class BodyFieldCases
{
    public static IEnumerable<BadCase> WrongTypes(CaseContext context)
    {
        foreach (var operation in context.WithBody)
        {
            foreach (var property in operation.Body!.Properties)
                foreach (var (name, json) in BadValues.WrongTypes(property.Kind))
                    yield return context.Json("wrong types", operation, $"{property.Name}: {name}", context.WithRaw(operation, property.Name, json));
            // The body itself of the wrong type.
            foreach (var (name, json) in new[] { ("array", "[]"), ("array of object", "[{}]"), ("string", "\"x\""), ("number", "1"), ("true", "true"), ("null", "null") })
                yield return context.Json("wrong types", operation, $"body: {name}", json);
        }
    }

    public static IEnumerable<BadCase> Extremes(CaseContext context)
    {
        foreach (var operation in context.WithBody)
        {
            var properties = operation.Body!.Properties;
            if (operation.Body.IsOpaque)
            {
                // The event of a call: any JSON is valid, so only size and shape can be extreme.
                foreach (var (name, json) in BadValues.Extremes(PropertyKind.Any, huge: true))
                    yield return context.Json("huge, empty and null values", operation, $"event field: {name}", context.WithRaw(operation, "n", json));
                foreach (var (name, json) in BadValues.Extremes(PropertyKind.Any, huge: false))
                    yield return context.Json("huge, empty and null values", operation, $"event: {name}", json);
                continue;
            }
            var hugeOne = context.Random.Next(properties.Count);
            for (var i = 0; i < properties.Count; i++)
                foreach (var (name, json) in BadValues.Extremes(properties[i].Kind, huge: i == hugeOne))
                    yield return context.Json("huge, empty and null values", operation, $"{properties[i].Name}: {name}",
                        context.WithRaw(operation, properties[i].Name, json));
            yield return context.Json("huge, empty and null values", operation, "every property null",
                "{" + string.Join(',', properties.Select(p => $"\"{p.Name}\":null")) + "}");
        }
    }

    public static IEnumerable<BadCase> OddText(CaseContext context)
    {
        foreach (var operation in context.WithBody)
        {
            var strings = operation.Body!.Properties.Where(p => p.Kind is PropertyKind.String or PropertyKind.Any).Select(p => p.Name).ToList();
            if (operation.Body.IsOpaque) strings.Add("n");
            foreach (var property in strings)
                foreach (var (name, json) in context.Sample(BadValues.OddStrings, 12))
                    yield return context.Json("control characters and unicode", operation, $"{property}: {name}", context.WithRaw(operation, property, json));
            foreach (var map in operation.Body.Properties.Where(p => p.Kind == PropertyKind.StringMap))
                foreach (var (name, json) in context.Sample(BadValues.OddStrings, 8))
                {
                    yield return context.Json("control characters and unicode", operation, $"{map.Name} key: {name}",
                        context.WithRaw(operation, map.Name, "{" + json + ":\"v\"}"));
                    yield return context.Json("control characters and unicode", operation, $"{map.Name} value: {name}",
                        context.WithRaw(operation, map.Name, "{\"K\":" + json + "}"));
                }
        }
    }
}
