using System.Data.Common;
using System.Globalization;
using Chekt.PartnerApi.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;

namespace Chekt.PartnerApi.Http;

/// <summary>
/// List paging (spec §7): bare arrays ordered by id, <c>limit</c> 1–1000 (default 1000) and
/// <c>after</c> (an id); when more items remain, <c>Link: &lt;…?limit=…&amp;after=…&gt;; rel="next"</c>.
/// </summary>
public readonly record struct Page(int Limit, long After)
{
    public const int MaxLimit = 1000;

    /// <summary>Reads limit and after; an error names the parameter.</summary>
    public static (Page Page, ApiError? Error) Read(HttpRequest request)
    {
        var limit = MaxLimit;
        long after = 0;
        if (request.Query.TryGetValue("limit", out var rawLimit))
        {
            if (rawLimit.Count != 1 || !int.TryParse(rawLimit[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit)
            {
                return (default, ApiError.Validation("limit", $"limit must be an integer from 1 to {MaxLimit}."));
            }
        }

        if (request.Query.TryGetValue("after", out var rawAfter))
        {
            if (rawAfter.Count != 1 || !long.TryParse(rawAfter[0], NumberStyles.None, CultureInfo.InvariantCulture, out after) || after < 1)
            {
                return (default, ApiError.Validation("after", "after must be a positive integer id."));
            }
        }

        return (new Page(limit, after), null);
    }

    /// <summary>Trims the one extra row fetched to learn whether more remain, and sets the Link header.</summary>
    public IReadOnlyList<T> Finish<T>(HttpContext context, IReadOnlyList<T> rows, Func<T, long> id)
    {
        if (rows.Count <= Limit)
        {
            return rows;
        }

        var page = rows.Take(Limit).ToList();
        SetNextLink(context, id(page[^1]));
        return page;
    }

    /// <summary>The <c>Link</c> header of a page after which more items remain: the next page starts after <paramref name="lastId"/>.</summary>
    public void SetNextLink(HttpContext context, long lastId)
    {
        var request = context.Request;
        var next = QueryHelpers.AddQueryString(request.PathBase + request.Path, new Dictionary<string, string?>
        {
            ["limit"] = Limit.ToString(CultureInfo.InvariantCulture),
            ["after"] = lastId.ToString(CultureInfo.InvariantCulture),
        });
        context.Response.Headers.Link = $"<{next}>; rel=\"next\"";
    }

    /// <summary>The LIMIT every list query ends with: <see cref="FetchCount"/> rows, bound as <c>@fetch</c>.</summary>
    /// <remarks>
    /// Note: SQLite's planner looks at the value of a bare <c>LIMIT @fetch</c>, and so marks the prepared
    /// statement to be compiled again whenever the parameter is bound, which is every run. Behind a CAST the
    /// value is only read when the statement runs, so the kept statement is reused as it is.
    /// </remarks>
    public const string LimitClause = " LIMIT CAST(@fetch AS INTEGER)";

    /// <summary>
    /// A list endpoint in one call: reads <c>limit</c> and <c>after</c>, runs <paramref name="sql"/> (which
    /// filters on the parent named in <paramref name="filter"/> and on <c>@after</c>, and orders by id) with
    /// <see cref="LimitClause"/>, and answers one page of DTOs with its <c>Link</c> header.
    /// </summary>
    public static async Task<Results<JsonOk<IReadOnlyList<TDto>>, ApiError>> ListAsync<TRow, TDto>(
        HttpContext context, Db db, string sql, ListFilter filter, Func<DbDataReader, TRow> read, Func<TRow, long> id, Func<TRow, TDto> toDto)
    {
        var (page, pageError) = Read(context.Request);
        if (pageError is not null)
        {
            return pageError;
        }

        List<TRow> rows;
        await using (var connection = await db.OpenAsync(context.RequestAborted))
        {
            // Lists are the second most frequent request: bound by hand, like the access query.
            await using var query = connection.CreateCommand();
            query.CommandText = sql + LimitClause;
            query.AddParameter(filter.ParentName, filter.ParentId);
            if (filter.OnlyId is { } onlyId)
            {
                query.AddParameter("onlyId", onlyId);
            }

            query.AddParameter("after", page.After);
            query.AddParameter("fetch", page.FetchCount);
            rows = await query.QueryRowsAsync(read, Math.Min(page.FetchCount, 64), context.RequestAborted);
        }

        return page.Answer(context, rows, id, toDto);
    }

    /// <summary>The answer of a list: this page of <paramref name="rows"/> (read with <see cref="FetchCount"/>) as DTOs, with its <c>Link</c> header.</summary>
    public JsonOk<IReadOnlyList<TDto>> Answer<TRow, TDto>(HttpContext context, IReadOnlyList<TRow> rows, Func<TRow, long> id, Func<TRow, TDto> toDto) =>
        JsonAnswers.Ok<IReadOnlyList<TDto>>([.. Finish(context, rows, id).Select(toDto)]);

    /// <summary>Rows to fetch: one more than the limit.</summary>
    public int FetchCount => Limit + 1;
}

/// <summary>
/// What a list is of: the parent's id, bound as <c>@{ParentName}</c>, and, for a token narrowed to one
/// item, that item's id, bound as <c>@onlyId</c>.
/// </summary>
public readonly record struct ListFilter(string ParentName, long ParentId, long? OnlyId = null);
