using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Tern.Api.Lambda;

/// <summary>Marker paging as Lambda's list calls do it: MaxItems (1..10000, default 50) per page, and NextMarker, the
/// key of the page's last item, which the next call sends back as Marker.</summary>
internal static class LambdaPage
{
    public const int DefaultMaxItems = 50;
    public const int MaxMaxItems = 10000;

    public static (IReadOnlyList<T> Items, string? NextMarker) Take<T>(HttpRequest request, IReadOnlyList<T> all, Func<T, string> key)
    {
        var max = MaxItems(request);
        var start = 0;
        if (Query(request, "Marker") is { Length: > 0 } marker)
        {
            var index = IndexOf(all, key, marker);
            if (index < 0) throw new LambdaException(LambdaErrorType.InvalidParameterValue, $"Marker '{marker}' is not a marker this list returned");
            start = index + 1;
        }
        var page = all.Skip(start).Take(max).ToList();
        var next = start + page.Count < all.Count ? key(page[^1]) : null;
        return (page, next);
    }

    private static int IndexOf<T>(IReadOnlyList<T> all, Func<T, string> key, string marker)
    {
        for (var i = 0; i < all.Count; i++)
            if (key(all[i]) == marker) return i;
        return -1;
    }

    private static int MaxItems(HttpRequest request)
    {
        if (Query(request, "MaxItems") is not { } text) return DefaultMaxItems;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var max) || max is < 1 or > MaxMaxItems)
            throw new LambdaException(LambdaErrorType.InvalidParameterValue, $"MaxItems must be a whole number from 1 to {MaxMaxItems}");
        return max;
    }

    /// <summary>A query parameter given at most once (a repeat is refused rather than guessed at).</summary>
    public static string? Query(HttpRequest request, string name)
    {
        if (!request.QueryString.HasValue) return null;
        var values = request.Query[name];
        if (values.Count > 1) throw new LambdaException(LambdaErrorType.InvalidParameterValue, $"{name} may be given once");
        return values.Count == 1 ? values[0] : null;
    }
}
