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
    /// What <c>If-Match</c> requires (nothing without it or with <c>*</c>); an error when it is not a list of entity
    /// tags. A list that names no version of ours is a condition no row meets, so the write is a 412 (RFC 9110 §13.1.1),
    /// or a 404 when the resource does not exist at all.
    /// </summary>
    public static (IfMatch Condition, ApiError? Error) ReadIfMatch(HttpContext context)
    {
        var header = context.Request.Headers.IfMatch;
        if (header.Count == 0)
        {
            return (IfMatch.Any, null);
        }

        if (!EntityTagHeaderValue.TryParseList(header, out var tags) || tags.Count == 0)
        {
            return (IfMatch.Any, ApiError.BadRequest(ErrorCodes.BadRequest, "If-Match is not a valid entity tag list.", "If-Match"));
        }

        if (tags.Any(t => t.Equals(EntityTagHeaderValue.Any)))
        {
            return (IfMatch.Any, null);
        }

        // Strong comparison: weak tags never match for If-Match.
        var versions = tags.Where(t => !t.IsWeak).Select(t => ParseVersion(t.Tag.Value)).OfType<long>().Distinct().ToList();
        return (versions.Count switch
        {
            0 => IfMatch.None,
            1 => new IfMatch(versions[0], null),
            _ => new IfMatch(null, string.Create(CultureInfo.InvariantCulture, $",{string.Join(',', versions)},")),
        }, null);
    }

    public static ApiError PreconditionFailed() =>
        new(StatusCodes.Status412PreconditionFailed, ErrorCodes.PreconditionFailed,
            "The resource has changed since you read it (If-Match does not match its ETag). Read it again and retry.");

    private static long? ParseVersion(string? quoted) =>
        quoted is { Length: > 3 } && quoted[1] == 'v'
        && long.TryParse(quoted.AsSpan(2, quoted.Length - 3), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? version
            : null;
}

/// <summary>
/// The condition <c>If-Match</c> puts on a write, as SQL for its <c>WHERE</c> (<see cref="Condition"/>). The statement binds
/// <c>@expectedVersion</c> = <see cref="Version"/> and <c>@expectedVersions</c> = <see cref="Versions"/>; 0 rows then means
/// "gone" or "changed" (412).
/// </summary>
/// <param name="Version">The one version required.</param>
/// <param name="Versions">Several versions, any of which may be current, as <c>,3,5,</c>.</param>
public readonly record struct IfMatch(long? Version, string? Versions)
{
    /// <summary>No <c>If-Match</c>, or <c>*</c>: the write applies unconditionally.</summary>
    public static readonly IfMatch Any = new(null, null);

    /// <summary>Tags that name no version of ours: no row meets the condition.</summary>
    public static readonly IfMatch None = new(null, ",");

    // Note: the texts are constant, so that statement caches see one text per shape, whatever the versions; one
    // parameter carries a list of any length.
    public string Condition =>
        Version is not null ? " AND version = @expectedVersion"
        : Versions is not null ? " AND @expectedVersions LIKE ('%,' || version || ',%')"
        : "";
}
