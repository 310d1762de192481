using System.Data;
using System.Data.Common;
using System.Globalization;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Http;
using Dapper;

namespace Chekt.PartnerApi.Auth;

/// <summary>The scope an endpoint needs (spec §2.3).</summary>
public sealed record RequiredScope(string Scope);

/// <summary>Marks an endpoint that only a dealer admin's user token may call (connect, disconnect).</summary>
public sealed record RequireDealerAdmin;

/// <summary>The dealer of the path, after the access rules of spec §2.4 passed.</summary>
public sealed record DealerAccess(long DealerId, string ExternalDealerId)
{
    /// <summary>The dealer's row, read by the access check itself for endpoints marked <see cref="ReadsDealerRow"/>.</summary>
    internal Dealers.DealerRow? Row { get; init; }
}

/// <summary>Marks an endpoint that answers with the dealer's own row, which the access check then reads in the same query.</summary>
public sealed record ReadsDealerRow;

/// <summary>Marks an endpoint under <c>/sites/{siteId}</c> that answers with the site's row, which the access check then reads in the same query.</summary>
public sealed record ReadsSiteRow;

/// <summary>
/// Marks an endpoint that answers with the path's contact: the dealer check reads the contact's row in its own
/// query (GET contact in one round trip). The row is the path site's contact or none.
/// </summary>
public sealed record ReadsContactRow;

/// <summary>
/// Marks a write under <c>/sites/{siteId}</c> that states the dealer and site access rules in its own statement
/// (<see cref="PartnerApiAuthorization.SiteAccessCondition"/>): the access check then reads nothing before it, and the
/// endpoint asks for the reason (<see cref="PartnerApiAuthorization.SiteAccessErrorAsync"/>) only when its write did nothing.
/// </summary>
public sealed record ChecksAccessInWrite;

/// <summary>
/// The path's dealer and site of an endpoint marked <see cref="ChecksAccessInWrite"/>, whose access rules the endpoint's own
/// write checks. The token's own rules (user of the dealer, narrowing) have passed.
/// </summary>
public sealed record PendingSiteAccess(long DealerId, long SiteId);

/// <summary>What the access query found for the path's contact (<see cref="ReadsContactRow"/>): its row, or null when the site has no such contact.</summary>
internal sealed record ContactLookup(long ContactId, Contacts.ContactRow? Row);

/// <summary>
/// Marks the list of a site's contacts: when <c>limit</c> and <c>after</c> are valid, the dealer check reads the
/// page in its own query (the list in one round trip); the rows are the path site's contacts only.
/// </summary>
public sealed record ReadsContactPage;

/// <summary>
/// The page of the path site's contacts the access query read (<see cref="ReadsContactPage"/>), already written as
/// the answer's JSON array (<see cref="Contacts.ContactPageWriter"/>); <paramref name="NextAfter"/> is the page's last
/// id when more contacts follow it.
/// </summary>
internal sealed record ContactPageLookup(long SiteId, Page Page, PooledBufferWriter Json, long? NextAfter);

/// <summary>
/// Declarative access control for the partner API. A route group says what it needs and the filters
/// enforce it: <c>MapPartnerApi()</c> (a valid bearer token), <c>RequireScope(...)</c>,
/// <c>MapDealerScoped()</c> (the dealer access rules) and <c>RequireDealerAdmin()</c>.
/// </summary>
public static class PartnerApiAuthorization
{
    /// <summary>
    /// <c>/partner/v1</c>: a valid bearer token, then the client's rate limit, then the endpoint's
    /// scope, then no query parameters beyond those the endpoint declares.
    /// </summary>
    public static RouteGroupBuilder MapPartnerApi(this IEndpointRouteBuilder app) =>
        app.MapGroup("/partner/v1")
            .AddEndpointFilter(SharedFilter<BearerTokenFilter>(app))
            .AddEndpointFilter(SharedFilter<ClientRateLimitFilter>(app))
            .AddEndpointFilter(SharedFilter<ScopeFilter>(app))
            .AddEndpointFilter(SharedFilter<QueryParameterFilter>(app));

    /// <summary>A group under <c>/dealers/{dealerId}</c> whose every endpoint passes the dealer access rules first, then idempotency.</summary>
    public static RouteGroupBuilder MapDealerScoped(this RouteGroupBuilder api, string pattern = "/dealers/{dealerId}") =>
        api.MapGroup(pattern).AddEndpointFilter(SharedFilter<DealerAccessFilter>(api)).AddEndpointFilter(SharedFilter<IdempotencyFilter>(api));

    /// <summary>A group under <c>/sites/{siteId}</c> of a dealer group: the site must belong to the path's dealer (else 404).</summary>
    public static RouteGroupBuilder MapSiteScoped(this RouteGroupBuilder dealer) =>
        dealer.MapGroup("/sites/{siteId}").WithMetadata(new SiteScoped()).AddEndpointFilter(SharedFilter<SiteAccessFilter>(dealer));

    /// <summary>One instance of a filter for every request of the group it is added to.</summary>
    /// <remarks>
    /// The API's filters keep nothing of a request in their fields and depend on singletons only, so one instance
    /// serves all requests. <c>AddEndpointFilter&lt;TFilter&gt;()</c> would build a new one through dependency injection
    /// on every request: six filters, each an allocation and a lookup per constructor parameter, on every call.
    /// </remarks>
    internal static IEndpointFilter SharedFilter<TFilter>(IEndpointRouteBuilder routes) where TFilter : IEndpointFilter =>
        ActivatorUtilities.CreateInstance<TFilter>(routes.ServiceProvider);

    public static SiteAccess GetSiteAccess(this HttpContext context) =>
        context.Features.Get<SiteAccess>() ?? throw new InvalidOperationException("The endpoint is not behind MapSiteScoped().");

    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, string scope) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequiredScope(scope));

    public static TBuilder RequireDealerAdmin<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequireDealerAdmin());

    public static PartnerCaller GetCaller(this HttpContext context) =>
        context.Features.Get<PartnerCaller>() ?? throw new InvalidOperationException("The endpoint is not behind MapPartnerApi().");

    public static DealerAccess GetDealerAccess(this HttpContext context) =>
        context.Features.Get<DealerAccess>() ?? throw new InvalidOperationException("The endpoint is not behind MapDealerScoped().");

    /// <summary>
    /// The dealer and site access rules of spec §2.4 as one SQL condition on <c>@siteId</c>, <c>@dealerId</c> and
    /// <c>@partnerId</c>, for a write that checks them itself (<see cref="ChecksAccessInWrite"/>): the site is the dealer's,
    /// and the dealer is connected to the partner. A dealer of the site exists (the sites' foreign key).
    /// </summary>
    /// <remarks>
    /// Note: the same rules as the access query's (DealerAccessFilter); the write and its check are then one statement,
    /// with no moment between them in which the dealer could be disconnected or the site deleted.
    /// </remarks>
    public const string SiteAccessCondition =
        "EXISTS (SELECT 1 FROM sites s JOIN dealer_connections c ON c.dealer_id = s.dealer_id"
        + " WHERE s.id = @siteId AND s.dealer_id = @dealerId AND c.partner_id = @partnerId AND c.disconnected_at IS NULL)";

    /// <summary>
    /// Why the caller may not reach the dealer's site (the error the access filters answer), or null when it may: for an
    /// endpoint whose write checked the rules itself and did nothing, or whose request was refused before its write.
    /// </summary>
    public static async ValueTask<ApiError?> SiteAccessErrorAsync(this HttpContext context, Db db, long dealerId, long siteId) =>
        (ApiError?)await DealerAccessFilter.CheckAsync(context, db, context.GetCaller(), dealerId, siteId, metadata: null)
        ?? SiteAccessFilter.Judge(context, siteId);

    /// <summary>Path ids are positive 64-bit integers (spec §7); anything else is 400 naming the parameter.</summary>
    public static bool TryParseId(object? value, out long id) =>
        long.TryParse(value as string, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id > 0;

    public static ApiError InvalidPathId(string name) =>
        ApiError.Validation(name, $"{name} must be a positive integer.");
}

/// <summary>The site of the path, known to belong to the path's dealer.</summary>
public sealed record SiteAccess(long SiteId, string ExternalSiteId)
{
    /// <summary>The site's row, read by the access check itself for endpoints marked <see cref="ReadsSiteRow"/>.</summary>
    internal Sites.SiteRow? Row { get; init; }
}

/// <summary>Marks the endpoints under <c>/sites/{siteId}</c>, so the dealer check can look the site up in the same query.</summary>
public sealed record SiteScoped;

/// <summary>What the dealer check found about the path's site: its external id, or null when it is not the dealer's.</summary>
internal sealed record SiteLookup(long SiteId, string? ExternalSiteId, Sites.SiteRow? Row);

/// <summary>A site that is not the path dealer's is 404, exactly as if it did not exist (spec §2.4).</summary>
public sealed class SiteAccessFilter : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!PartnerApiAuthorization.TryParseId(http.Request.RouteValues["siteId"], out var siteId))
        {
            return ValueTask.FromResult<object?>(PartnerApiAuthorization.InvalidPathId("siteId"));
        }

        // The endpoint's write checks the site itself (ChecksAccessInWrite).
        if (http.Features.Get<PendingSiteAccess>() is { } pending && pending.SiteId == siteId)
        {
            return next(context);
        }

        return Judge(http, siteId) is { } refused ? ValueTask.FromResult<object?>(refused) : next(context);
    }

    internal static ApiError? Judge(HttpContext http, long siteId)
    {
        // The dealer check looked the site up in its own query (SiteScoped); here it is judged.
        var lookup = http.Features.Get<SiteLookup>() is { } found && found.SiteId == siteId
            ? found
            : throw new InvalidOperationException("MapSiteScoped() must sit under MapDealerScoped().");
        var (externalSiteId, row) = (lookup.ExternalSiteId, lookup.Row);
        if (externalSiteId is null)
        {
            return ApiError.NotFound("site_not_found", $"Site {siteId} does not exist.");
        }

        http.Features.Set(new SiteAccess(siteId, externalSiteId) { Row = row });
        return null;
    }
}

/// <summary>Authenticates the bearer token (RFC 6750); the scope is checked by <see cref="ScopeFilter"/> after the rate limit.</summary>
public sealed class BearerTokenFilter(AccessTokenValidator validator, ILogger<BearerTokenFilter> logger) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (ReadBearerToken(http.Request.Headers.Authorization) is not { } token)
        {
            return ValueTask.FromResult<object?>(InvalidToken("A bearer access token is required."));
        }

        // A token validated before is answered at once: then the request goes on without a state machine of this filter's.
        var validation = validator.ValidateAsync(token, http.RequestAborted);
        return validation.IsCompletedSuccessfully ? Continue(context, next, validation.Result) : ContinueAsync(context, next, validation);
    }

    private async ValueTask<object?> ContinueAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, ValueTask<(PartnerCaller? Caller, string? Reason)> validation) =>
        await Continue(context, next, await validation);

    private ValueTask<object?> Continue(EndpointFilterInvocationContext context, EndpointFilterDelegate next, (PartnerCaller? Caller, string? Reason) validation)
    {
        if (validation.Caller is not { } caller)
        {
            logger.LogInformation("Access token refused: {Reason}", validation.Reason);
            return ValueTask.FromResult<object?>(InvalidToken("The access token is invalid or expired."));
        }

        context.HttpContext.Features.Set(caller);
        return next(context);
    }

    /// <summary>
    /// The token of exactly one <c>Authorization: Bearer &lt;token&gt;</c> header (RFC 6750 §2.1: the scheme
    /// is case-insensitive, then one or more spaces and a token without spaces); null otherwise.
    /// </summary>
    internal static ReadOnlyMemory<char>? ReadBearerToken(Microsoft.Extensions.Primitives.StringValues authorization)
    {
        const string Scheme = "Bearer";
        if (authorization.Count != 1 || authorization[0] is not { } value
            || value.Length <= Scheme.Length || !value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) || value[Scheme.Length] != ' ')
        {
            return null;
        }

        var token = value.AsMemory(Scheme.Length).Trim(' ');
        return token.IsEmpty || token.Span.ContainsAny(' ', '\t', ',') ? null : (ReadOnlyMemory<char>?)token;
    }

    // Note: spec §2.4: every token problem, a missing token included, is 401 with error="invalid_token".
    private static ApiError InvalidToken(string message)
    {
        var error = new ApiError(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidToken, message);
        error.Headers["WWW-Authenticate"] = $"Bearer realm=\"partner-api\", error=\"invalid_token\", error_description=\"{message}\"";
        return error;
    }
}

/// <summary>
/// Spec §2.4 for every route under <c>/dealers/{dealerId}</c>: unknown dealer 404; dealer not
/// connected to the caller's partner 403; a user token of another dealer, or a token narrowed to
/// another dealer or site, 403.
/// </summary>
public sealed class DealerAccessFilter(Db db) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!PartnerApiAuthorization.TryParseId(http.Request.RouteValues["dealerId"], out var dealerId))
        {
            return ValueTask.FromResult<object?>(PartnerApiAuthorization.InvalidPathId("dealerId"));
        }

        var caller = http.GetCaller();
        // A route under /sites/{siteId} needs the site too: it is looked up in the same query (one
        // round trip instead of two) and judged by SiteAccessFilter, after the dealer rules below.
        var metadata = http.GetEndpoint()?.Metadata;
        var siteId = metadata?.GetMetadata<SiteScoped>() is not null
            && PartnerApiAuthorization.TryParseId(http.Request.RouteValues["siteId"], out var pathSiteId) ? pathSiteId : 0;

        // Note: a write that states the access rules in its own statement (ChecksAccessInWrite) needs no read before it: it
        // does nothing without access, and then asks why. Only when the token's own rules pass (when they fail, the check
        // below runs, whose database errors come before theirs), and never with an Idempotency-Key, whose claim must not be
        // taken for a request without access.
        if (siteId != 0 && metadata?.GetMetadata<ChecksAccessInWrite>() is not null
            && !http.Request.Headers.ContainsKey(IdempotencyFilter.HeaderName) && TokenRules(http, caller, dealerId) is null)
        {
            http.Features.Set(new PendingSiteAccess(dealerId, siteId));
            return next(context);
        }

        return CheckAsync(http, db, caller, dealerId, siteId, metadata, context, next);
    }

    /// <summary>
    /// The access rules for the path's dealer (and site, when <paramref name="siteId"/> is not 0): the refusal (an
    /// <see cref="ApiError"/>) when they fail; when they pass, with the features the endpoint reads set, the rest of the
    /// request's answer (<paramref name="next"/>), or null without one. Reads what the endpoint's metadata asks for too.
    /// </summary>
    /// <remarks>The rest of the request runs in here, not after it, so that a request makes one state machine of this check, not two.</remarks>
    internal static async ValueTask<object?> CheckAsync(HttpContext http, Db db, PartnerCaller caller, long dealerId, long siteId,
        EndpointMetadataCollection? metadata, EndpointFilterInvocationContext? context = null, EndpointFilterDelegate? next = null)
    {
        var readsDealer = metadata?.GetMetadata<ReadsDealerRow>() is not null;
        var readsSite = siteId != 0 && metadata?.GetMetadata<ReadsSiteRow>() is not null;
        var readsContacts = ReadsContactColumns(siteId != 0, readsDealer, readsSite, withContacts: true);
        // An unreadable contact id is left to the endpoint, which answers it (400) as it always has.
        var contactId = readsContacts && metadata?.GetMetadata<ReadsContactRow>() is not null
            && PartnerApiAuthorization.TryParseId(http.Request.RouteValues["contactId"], out var pathContactId) ? pathContactId : 0;
        // Likewise a bad limit or after: the page is then not read here, and the endpoint answers the 400.
        Page? contactPage = readsContacts && contactId == 0 && metadata?.GetMetadata<ReadsContactPage>() is not null
            && Page.Read(http.Request) is (var validPage, null) ? validPage : null;
        var shape = new AccessQueryShape(siteId, readsDealer, readsSite, contactId, contactPage);
        DealerConnectionRow? row;
        ContactPageLookup? pageLookup;
        await using (var connection = await db.OpenAsync(http.RequestAborted))
        {
            // Note: the connection goes back to the pool before the rest of the request runs; holding
            // it across next() would let concurrent requests exhaust the pool waiting on each other.
            var sql = (db.IsPostgres ? PostgresAccessQueries : SqliteAccessQueries)[shape.QueryIndex];
            if (connection.TryReadDirect(sql, AccessArguments(dealerId, caller.PartnerId, shape), http.RequestAborted, out var direct))
            {
                await using (direct)
                {
                    (row, pageLookup) = await ReadAccessAsync(direct, shape, http.RequestAborted);
                }
            }
            else
            {
                await using var query = connection.CreateCommand(sql, AccessArguments(dealerId, caller.PartnerId, shape));
                // Note: without a page, the access query answers at most one row; saying so lets concurrent requests' access
                // queries run as one statement on PostgreSQL (PostgresBatching).
                await using var reader = await query.ExecuteReaderAsync(
                    shape.ContactPage is null ? CommandBehavior.SingleRow : CommandBehavior.Default, http.RequestAborted);
                (row, pageLookup) = await ReadAccessAsync(reader, shape, http.RequestAborted);
            }
        }

        if (row is null)
        {
            return ApiError.NotFound("dealer_not_found", $"Dealer {dealerId} does not exist.");
        }

        if (row.ExternalDealerId is null || row.DisconnectedAt is not null)
        {
            return ApiError.Forbidden("dealer_not_connected", $"Dealer {dealerId} is not connected to your partner account.");
        }

        if (TokenRules(http, caller, dealerId) is { } refused)
        {
            return refused;
        }

        http.Features.Set(new DealerAccess(dealerId, row.ExternalDealerId) { Row = row.Dealer });
        if (siteId != 0)
        {
            http.Features.Set(new SiteLookup(siteId, row.ExternalSiteId, row.Site));
        }

        if (contactId != 0)
        {
            http.Features.Set(new ContactLookup(contactId, row.Contact));
        }

        if (pageLookup is not null)
        {
            http.Features.Set(pageLookup);
        }

        return next is null ? null : await next(context!);
    }

    /// <summary>The rules of the token itself: a user token of another dealer, or a token narrowed to another dealer or site, is 403.</summary>
    private static ApiError? TokenRules(HttpContext http, PartnerCaller caller, long dealerId)
    {
        if (caller.User is not null && caller.User.DealerId != dealerId)
        {
            return ApiError.Forbidden(ErrorCodes.Forbidden, "The access token belongs to a user of another dealer.");
        }

        if (caller.Narrowing is { } narrowing)
        {
            if (narrowing.DealerId != dealerId)
            {
                return ApiError.Forbidden(ErrorCodes.Forbidden, "The access token is restricted to another dealer.");
            }

            if (narrowing.SiteId is { } narrowedSiteId && http.Request.RouteValues.TryGetValue("siteId", out var rawSite)
                && PartnerApiAuthorization.TryParseId(rawSite, out var pathSite) && pathSite != narrowedSiteId)
            {
                return ApiError.Forbidden(ErrorCodes.Forbidden, "The access token is restricted to another site.");
            }
        }

        return null;
    }

    /// <summary>What the access query reads besides the access rules; <see cref="QueryIndex"/> picks its text.</summary>
    private readonly record struct AccessQueryShape(long SiteId, bool ReadsDealer, bool ReadsSite, long ContactId, Page? ContactPage)
    {
        public bool WithSite => SiteId != 0;

        public bool ReadsContact => ContactId != 0;

        public int QueryIndex => (WithSite ? 1 : 0) + (ReadsDealer ? 2 : 0) + (ReadsSite ? 4 : 0) + (ReadsContact ? 8 : 0) + (ContactPage is not null ? 16 : 0);
    }

    // Every request under /dealers/{dealerId} runs this query, so its integer arguments are bound by hand: on SQLite
    // the statement runs straight on the session's prepared statement, with no parameter objects, and on PostgreSQL
    // without Dapper, whose per-call cache lookup hashes the whole SQL text.
    private static IntegerArguments AccessArguments(long dealerId, long partnerId, AccessQueryShape shape)
    {
        var arguments = new IntegerArguments();
        arguments.Add("dealerId", dealerId);
        arguments.Add("partnerId", partnerId);
        if (shape.WithSite)
        {
            arguments.Add("siteId", shape.SiteId);
        }

        if (shape.ReadsContact)
        {
            arguments.Add("contactId", shape.ContactId);
        }

        if (shape.ContactPage is { } page)
        {
            arguments.Add("after", page.After);
            arguments.Add("fetch", page.FetchCount);
        }

        return arguments;
    }

    private static async ValueTask<(DealerConnectionRow? Row, ContactPageLookup? Page)> ReadAccessAsync(
        DbDataReader reader, AccessQueryShape shape, CancellationToken cancellationToken)
    {
        if (!await reader.ReadAsync(cancellationToken))
        {
            return (null, null);
        }

        var row = DealerConnectionRow.Read(reader, shape.WithSite, shape.ReadsDealer, shape.ReadsSite, shape.ReadsContact);
        if (shape.ContactPage is not { } pageToRead)
        {
            return (row, null);
        }

        // One row per contact of the page (a single row with no contact when the site has none), each
        // repeating the access columns, of which only the first row's are read. The page is written as the
        // answer's JSON here, from the rows, and the one row fetched beyond the limit only says that more follow.
        var contactColumn = DealerConnectionRow.ContactColumn(shape.WithSite);
        var json = new Contacts.ContactPageWriter();
        var more = false;
        if (!reader.IsDBNull(contactColumn))
        {
            do
            {
                if (json.Count == pageToRead.Limit)
                {
                    more = true;
                    break;
                }

                json.Add(reader, contactColumn);
            }
            while (await reader.ReadAsync(cancellationToken));
        }

        return (row, new ContactPageLookup(shape.SiteId, pageToRead, json.Finish(), more ? json.LastId : null));
    }

    // One query answers the access rules, and also, where the endpoint needs them, the path's site
    // (index +1), the dealer's own columns (+2), the site's own columns (+4), the path contact's columns
    // (+8) or a page of the path site's contacts (+16): one round trip instead of two or three.
    // DealerConnectionRow.Read reads the columns in this order.
    private static readonly string[] SqliteAccessQueries = AccessQueries(postgres: false);

    private static readonly string[] PostgresAccessQueries = AccessQueries(postgres: true);

    private static string[] AccessQueries(bool postgres) =>
        [.. Enumerable.Range(0, 32).Select(index => AccessQuery(postgres, (index & 1) != 0, (index & 2) != 0, (index & 4) != 0, (index & 8) != 0, (index & 16) != 0))];

    private static string AccessQuery(bool postgres, bool withSite, bool withDealer, bool withSiteRow, bool withContactRow, bool withContactPage)
    {
        var contactRows = ReadsContactColumns(withSite, withDealer, withSiteRow, withContactRow || withContactPage);
        // Note: the contacts are joined on the site found under the path's dealer, never on the path's site id
        // alone: a site of another dealer yields no contact, and every row is judged by the access rules first.
        // The contacts' own select list, unchanged, behind a subquery (flattened by both databases): its unqualified
        // names would clash with the other tables'. Their site comes last, after the columns ContactRow.Read reads.
        // A page is one row per contact, read in id order from the site's (site_id, id) index and no further than
        // its LIMIT: the dealer, its connection and the site are at most one row each.
        // Note: SQLite sees that for the joined form, and stops the index scan at the LIMIT. PostgreSQL does not:
        // it would read every contact of the site and sort them for each page (30,000 contacts: 25-30 ms a page),
        // so it reads the page in a LATERAL subquery with its own ORDER BY and LIMIT (SQLite has no LATERAL).
        var contacts = withContactPage && !withContactRow && postgres
            ? " LEFT JOIN LATERAL (SELECT " + Contacts.ContactRow.Columns + ", site_id AS ContactSiteId FROM contacts"
                + " WHERE site_id = s.id AND id > @after ORDER BY id" + Page.LimitClause + ") ct ON true"
            : " LEFT JOIN (SELECT " + Contacts.ContactRow.Columns + ", site_id AS ContactSiteId FROM contacts) ct ON ct.ContactSiteId = s.id"
                + (withContactRow ? " AND ct.Id = @contactId" : " AND ct.Id > @after");
        return "SELECT d.id AS DealerId, c.external_dealer_id AS ExternalDealerId, c.disconnected_at AS DisconnectedAt"
            + (withSite ? ", s.external_site_id AS ExternalSiteId" : "")
            + (withDealer ? ", " + Dealers.DealerRow.Columns : "")
            + (withSiteRow && !withDealer ? ", " + Sites.SiteRow.Columns : "")
            + (contactRows ? ", ct.*" : "")
            + " FROM dealers d LEFT JOIN dealer_connections c ON c.dealer_id = d.id AND c.partner_id = @partnerId"
            + (withSite ? " LEFT JOIN sites s ON s.id = @siteId AND s.dealer_id = d.id" : "")
            + (withSiteRow ? " LEFT JOIN monitoring_stations m ON m.id = s.monitoring_station_id" : "")
            + (contactRows ? contacts : "")
            + " WHERE d.id = @dealerId"
            + (contactRows && !withContactRow ? " ORDER BY ct.Id" + (postgres ? "" : Page.LimitClause) : "");
    }

    // The contacts' columns follow the site's external id only: they are not combined with the dealer's or the site's row.
    private static bool ReadsContactColumns(bool withSite, bool withDealer, bool withSiteRow, bool withContacts) =>
        withContacts && withSite && !withDealer && !withSiteRow;

    private sealed class DealerConnectionRow
    {
        public long DealerId { get; init; }

        public string? ExternalDealerId { get; init; }

        public long? DisconnectedAt { get; init; }

        public string? ExternalSiteId { get; init; }

        /// <summary>The dealer's own row, for the queries that read it (ReadsDealerRow).</summary>
        public Dealers.DealerRow? Dealer { get; init; }

        /// <summary>The site's own row, for the queries that read it (ReadsSiteRow); null when there is no such site.</summary>
        public Sites.SiteRow? Site { get; init; }

        /// <summary>The path contact's row, for the queries that read it (ReadsContactRow); null when the site has no such contact.</summary>
        public Contacts.ContactRow? Contact { get; init; }

        /// <summary>Where the contact's columns start in a query that reads them.</summary>
        public static int ContactColumn(bool withSite) => withSite ? 4 : 3;

        public static DealerConnectionRow Read(DbDataReader reader, bool withSite, bool withDealer, bool withSiteRow, bool withContactRow)
        {
            var next = ContactColumn(withSite);
            return new DealerConnectionRow
            {
                DealerId = reader.GetInt64(0),
                ExternalDealerId = reader.IsDBNull(1) ? null : reader.GetString(1),
                DisconnectedAt = reader.IsDBNull(2) ? null : reader.GetInt64(2),
                ExternalSiteId = withSite && !reader.IsDBNull(3) ? reader.GetString(3) : null,
                Dealer = withDealer ? Dealers.DealerRow.Read(reader, next) : null,
                Site = withSiteRow && !withDealer && !reader.IsDBNull(next) ? Sites.SiteRow.Read(reader, next) : null,
                Contact = ReadsContactColumns(withSite, withDealer, withSiteRow, withContactRow) && !reader.IsDBNull(next) ? Contacts.ContactRow.Read(reader, next) : null,
            };
        }
    }
}

/// <summary>
/// The endpoint's scope (403 insufficient_scope, RFC 6750 §3.1) and, for connect/disconnect, a dealer
/// admin's user token. Runs after the rate limit, so refused requests are counted and carry its headers.
/// </summary>
public sealed class ScopeFilter : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        Refusal(context.HttpContext) is { } refusal ? ValueTask.FromResult<object?>(refusal) : next(context);

    private static ApiError? Refusal(HttpContext http)
    {
        var caller = http.GetCaller();
        var endpoint = http.GetEndpoint();
        // By index: a foreach over the metadata's list interface allocated an enumerator on every request.
        var requiredScopes = endpoint?.Metadata.GetOrderedMetadata<RequiredScope>() ?? [];
        for (var index = 0; index < requiredScopes.Count; index++)
        {
            var required = requiredScopes[index];
            if (!caller.Scopes.Contains(required.Scope))
            {
                var error = new ApiError(StatusCodes.Status403Forbidden, ErrorCodes.InsufficientScope,
                    $"The access token lacks the scope '{required.Scope}'.");
                error.Headers["WWW-Authenticate"] =
                    $"Bearer error=\"insufficient_scope\", error_description=\"The access token lacks the required scope.\", scope=\"{required.Scope}\"";
                return error;
            }
        }

        if (endpoint?.Metadata.GetMetadata<RequireDealerAdmin>() is not null)
        {
            if (caller.User is null)
            {
                return ApiError.Forbidden(ErrorCodes.Forbidden,
                    "This endpoint needs a dealer user's access token (authorization code flow), not a client-credentials token.");
            }

            if (!caller.User.IsAdmin)
            {
                return ApiError.Forbidden(ErrorCodes.Forbidden, "Only a dealer admin may do this.");
            }
        }

        return null;
    }
}
