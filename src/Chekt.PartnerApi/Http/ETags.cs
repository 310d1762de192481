using System.Globalization;
using Microsoft.Net.Http.Headers;

namespace Chekt.PartnerApi.Http;

/// <summary>
/// Optimistic concurrency (spec §7): a resource's ETag is its row version; a write with an
/// <c>If-Match</c> that no longer matches is 412. The check is part of the UPDATE/DELETE statement
/// (<c>WHERE version = @expected</c>), so two writers with the same ETag cannot both win.
/// </summary>
public static class ETags
{
    public static string For(long version) => string.Create(CultureInfo.InvariantCulture, $"\"v{version}\"");

    public static void Set(HttpContext context, long version) => context.Response.Headers.ETag = For(version);

    /// <summary>
    /// The version the client requires (null: no If-Match, or <c>*</c>); an error when If-Match cannot
    /// match any version of ours, which is a 412 too (RFC 9110 §13.1.1).
    /// </summary>
    public static (long? ExpectedVersion, ApiError? Error) ReadIfMatch(HttpContext context)
    {
        var header = context.Request.Headers.IfMatch;
        if (header.Count == 0)
        {
            return (null, null);
        }

        if (!EntityTagHeaderValue.TryParseList(header, out var tags) || tags.Count == 0)
        {
            return (null, ApiError.BadRequest(ErrorCodes.BadRequest, "If-Match is not a valid entity tag list.", "If-Match"));
        }

        if (tags.Any(t => t.Equals(EntityTagHeaderValue.Any)))
        {
            return (null, null);
        }

        // Strong comparison: weak tags never match for If-Match.
        // Note: one version, however often it is named, is that version. A list naming several different versions is
        // answered 412 even when one of them is current (RFC 9110 would apply the write): send the ETag you read.
        var versions = tags.Where(t => !t.IsWeak).Select(t => t.Tag.Value).Select(ParseVersion).Where(v => v is not null).Distinct().ToList();
        return versions.Count == 1
            ? (versions[0], null)
            : (null, PreconditionFailed());
    }

    /// <summary>
    /// The SQL that makes a write conditional on the version the client read (empty without If-Match);
    /// the statement must bind <c>@expectedVersion</c>. 0 rows then means "gone" or "changed" (412).
    /// </summary>
    public static string VersionCondition(long? expectedVersion) => expectedVersion is null ? "" : " AND version = @expectedVersion";

    public static ApiError PreconditionFailed() =>
        new(StatusCodes.Status412PreconditionFailed, ErrorCodes.PreconditionFailed,
            "The resource has changed since you read it (If-Match does not match its ETag). Read it again and retry.");

    private static long? ParseVersion(string? quoted) =>
        quoted is { Length: > 3 } && quoted[1] == 'v'
        && long.TryParse(quoted.AsSpan(2, quoted.Length - 3), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? version
            : null;
}
