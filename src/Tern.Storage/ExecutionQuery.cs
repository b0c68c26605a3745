using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Tern.Storage;

/// <summary>Which execution records to list, newest first: each filter is optional; <see cref="After"/> continues a
/// listing where its previous page ended.</summary>
public sealed record ExecutionQuery
{
    public string? Function { get; init; }
    /// <summary>Any of these statuses (empty: all).</summary>
    public IReadOnlyList<string> Statuses { get; init; } = [];
    /// <summary>Created at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }
    public int Limit { get; init; } = 100;
    public ExecutionCursor? After { get; init; }
}

/// <summary>One page of a listing; <see cref="Next"/> is null on the last page.</summary>
public sealed record ExecutionPage(IReadOnlyList<Tern.Core.Executions.ExecutionRecord> Executions, ExecutionCursor? Next);

/// <summary>Where a listing stopped: the last record's creation time and id (records sort by both, newest first).
/// Callers get it as an opaque base64url token.</summary>
public sealed record ExecutionCursor(long CreatedTicks, string ExecutionId)
{
    public string Encode() => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
        CreatedTicks.ToString(CultureInfo.InvariantCulture) + ":" + ExecutionId));

    /// <summary>False for anything <see cref="Encode"/> did not make.</summary>
    public static bool TryDecode(string token, out ExecutionCursor? cursor)
    {
        cursor = null;
        if (token.Length is 0 or > 256) return false;
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(token);
        }
        catch (FormatException)
        {
            return false;
        }
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == text.Length - 1
            || !long.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            || ticks > DateTimeOffset.MaxValue.UtcTicks)
            return false;
        var id = text[(colon + 1)..];
        if (!id.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')) return false;
        cursor = new ExecutionCursor(ticks, id);
        return true;
    }
}
