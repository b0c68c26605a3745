using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Tern.Api.Auth.SigV4;

/// <summary>The canonical request of SigV4 as the server rebuilds it from what arrived. Path and query are taken from
/// the raw request target (as the client encoded them), not from the decoded path: the signature covers the bytes.</summary>
internal static class SigV4Canonical
{
    public static string Request(HttpRequest request, SigV4Authorization auth, string payloadHash)
    {
        var raw = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } target
            ? target
            : request.PathBase + request.Path + request.QueryString;
        var question = raw.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? raw : raw[..question];
        var query = question < 0 ? "" : raw[(question + 1)..];
        var text = new StringBuilder(512);
        text.Append(request.Method.ToUpperInvariant()).Append('\n');
        text.Append(Uri(path)).Append('\n');
        text.Append(Query(query)).Append('\n');
        foreach (var name in auth.SignedHeaders)
            text.Append(name).Append(':').Append(HeaderValue(request, name)).Append('\n');
        text.Append('\n').Append(string.Join(';', auth.SignedHeaders)).Append('\n');
        text.Append(payloadHash);
        return text.ToString();
    }

    /// <summary>Dot segments and empty segments removed, then every byte but unreserved characters and '/' percent-encoded
    /// (for services other than S3 the already-encoded path is encoded once more: %3A becomes %253A).</summary>
    internal static string Uri(string rawPath)
    {
        if (rawPath.Length == 0) return "/";
        var kept = new List<string>();
        foreach (var segment in rawPath.Split('/'))
        {
            if (segment.Length == 0 || segment == ".") continue;
            if (segment == "..")
            {
                if (kept.Count > 0) kept.RemoveAt(kept.Count - 1);
            }
            else kept.Add(segment);
        }
        var normalized = (rawPath[0] == '/' ? "/" : "") + string.Join('/', kept) + (rawPath[^1] == '/' && kept.Count > 0 ? "/" : "");
        return Encode(normalized, keepSlash: true);
    }

    /// <summary>Pairs sorted by encoded name, then value; each name and value decoded and then strictly re-encoded.</summary>
    internal static string Query(string rawQuery)
    {
        if (rawQuery.Length == 0) return "";
        var pairs = new List<(string Key, string Value)>();
        foreach (var pair in rawQuery.Split('&'))
        {
            if (pair.Length == 0) continue;
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var (key, value) = eq < 0 ? (pair, "") : (pair[..eq], pair[(eq + 1)..]);
            pairs.Add((Encode(System.Uri.UnescapeDataString(key), false), Encode(System.Uri.UnescapeDataString(value), false)));
        }
        pairs.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key) is var byKey and not 0 ? byKey : string.CompareOrdinal(a.Value, b.Value));
        return string.Join('&', pairs.Select(p => $"{p.Key}={p.Value}"));
    }

    /// <summary>Lowercase name: values trimmed, inner runs of spaces collapsed, repeated headers joined with commas.</summary>
    private static string HeaderValue(HttpRequest request, string name) =>
        string.Join(',', request.Headers[name].Select(v => string.Join(' ', (v ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))));

    /// <summary>RFC 3986 unreserved characters (A-Z a-z 0-9 - _ . ~) stay; every other UTF-8 byte becomes %XX.</summary>
    private static string Encode(string value, bool keepSlash)
    {
        var text = new StringBuilder(value.Length + 16);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~' || (keepSlash && c == '/')) text.Append(c);
            else text.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }
}
