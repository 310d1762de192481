using System.Buffers;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Data;
using Dapper;

namespace Chekt.PartnerApi.Http;

/// <summary>
/// <c>Idempotency-Key</c> on POST/PUT/PATCH/DELETE (spec §7). The first answer for (client, key) is
/// stored for 24 h and replayed, with <c>Idempotent-Replayed: true</c>, for a retry with the same
/// method, path and body. The same key with another request is 409 <c>idempotency_conflict</c>.
/// </summary>
/// <remarks>
/// Note: the claim of the key, everything the endpoint writes and the stored answer commit together, in
/// one transaction (<see cref="RequestTransaction"/>). A crash at any point leaves either all of it or
/// none: a retry then replays the answer or runs afresh, never meets a half-done request. A retry that
/// arrives while the first is running waits on the database for the first to finish, then replays; if the
/// first is still running after <see cref="WaitForFirst"/>, the retry is 409 (on PostgreSQL; on SQLite the
/// retry waits for its turn on the writer, see <see cref="Db.BeginRequestTransactionAsync"/>, bounded by the busy
/// timeout, after which the answer is 503).
/// </remarks>
public sealed class IdempotencyFilter(Db db, TimeProvider clock, ILogger<IdempotencyFilter> logger) : IEndpointFilter
{
    public const string HeaderName = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxKeyLength = 255;
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    // Note: a record still "in progress" after this long belongs to a request that died with its
    // server; a retry may then run again (unique external ids still prevent duplicates).
    private static readonly TimeSpan AbandonedAfter = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan WaitForFirst = TimeSpan.FromSeconds(3);
    private const string StillRunningRetryAfterSeconds = "1";

    // Response headers that belong to the stored answer (the trace id and rate-limit headers are per request).
    private static readonly string[] ReplayedHeaders = ["Content-Type", "ETag", "Location", "Link"];

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var header = http.Request.Headers[HeaderName];
        // Most requests carry no key: they go on without a state machine of this filter's.
        return header.Count == 0 || HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method)
            ? next(context)
            : WithKeyAsync(context, next, header);
    }

    private async ValueTask<object?> WithKeyAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, Microsoft.Extensions.Primitives.StringValues header)
    {
        var http = context.HttpContext;
        var key = header.Count == 1 ? header[0] : null;
        if (string.IsNullOrEmpty(key) || key.Length > MaxKeyLength || !key.All(c => c is >= '!' and <= '~'))
        {
            return ApiError.BadRequest("invalid_idempotency_key",
                $"{HeaderName} must be one value of 1 to {MaxKeyLength} visible ASCII characters.", HeaderName);
        }

        var request = await HashRequestAsync(http);
        if (request.Error is not null)
        {
            return request.Error;
        }

        var clientId = http.GetCaller().ClientId;
        var waitUntil = clock.GetUtcNow() + WaitForFirst;
        for (var attempt = 0; ; attempt++)
        {
            if (attempt > 200)
            {
                throw new InvalidOperationException("The idempotency record could neither be claimed nor read.");
            }

            var transaction = await db.BeginRequestTransactionAsync(http.RequestAborted);
            Claim claim;
            try
            {
                claim = await TryClaimAsync(transaction, clientId, key, http.Request.Method, request.Path, request.Hash, http.RequestAborted);
            }
            catch
            {
                await transaction.DisposeAsync();
                throw;
            }

            if (claim == Claim.Claimed)
            {
                return await RunAndStoreAsync(context, next, transaction, clientId, key, request);
            }

            await transaction.DisposeAsync();
            if (claim == Claim.StillRunning)
            {
                return StillRunning();
            }

            var existing = await FindAsync(clientId, key, http.RequestAborted);
            var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
            if (existing is null)
            {
                continue; // removed meanwhile (expired, or the first request failed): claim it again
            }

            var abandoned = existing.State == "in_progress" && existing.CreatedAt + (long)AbandonedAfter.TotalMilliseconds <= now;
            if (existing.ExpiresAt <= now || abandoned)
            {
                await DeleteAsync(clientId, key, existing.CreatedAt, http.RequestAborted);
                continue;
            }

            if (existing.RequestMethod != http.Request.Method || existing.RequestPath != request.Path || existing.RequestHash != request.Hash)
            {
                return ApiError.Conflict("idempotency_conflict",
                    $"This {HeaderName} was already used for a different request. Use a new key for a new request.", HeaderName);
            }

            if (existing.State == "completed")
            {
                return new ReplayResult(existing);
            }

            if (clock.GetUtcNow() >= waitUntil)
            {
                return StillRunning();
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), http.RequestAborted);
        }
    }

    private async Task<object?> RunAndStoreAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, RequestTransaction transaction,
        string clientId, string key, (string Path, string Hash, ApiError? Error) request)
    {
        await using var _ = transaction;
        var http = context.HttpContext;
        var originalBody = http.Response.Body;
        using var captured = new MemoryStream();
        int status;
        Db.Enlist(transaction);
        try
        {
            var result = await next(context);
            http.Response.Body = captured;
            if (result is IResult answer)
            {
                await answer.ExecuteAsync(http);
            }

            status = http.Response.StatusCode;
        }
        finally
        {
            Db.Enlist(null);
            http.Response.Body = originalBody;
        }

        var body = captured.ToArray();
        var headers = JsonSerializer.Serialize(ReplayedHeaders
            .Where(name => http.Response.Headers.ContainsKey(name))
            .ToDictionary(name => name, name => http.Response.Headers[name].ToString()));
        if (status is >= 200 and < 300)
        {
            // The answer commits with the writes that made it; if the commit fails, so does the request.
            await transaction.CommitAfterAsync(StoreAnswerSql, new { clientId, key, status, headers, body });
        }
        else
        {
            // A refusal changes nothing: whatever the endpoint wrote before refusing is undone. Refusals
            // other than transient ones (5xx, 429) are still remembered, so a retry gets the same answer.
            await transaction.RollbackAsync();
            if (status < 500 && status != StatusCodes.Status429TooManyRequests)
            {
                await StoreRefusalAsync(clientId, key, http.Request.Method, request.Path, request.Hash, status, headers, body);
            }
        }

        // Note: a 204 (a DELETE) has no body, and Kestrel refuses any write to one, even of nothing.
        if (body.Length > 0)
        {
            await originalBody.WriteAsync(body, http.RequestAborted);
        }

        return Results.Empty;
    }

    private const int ReadBufferBytes = 8192;

    private static async Task<(string Path, string Hash, ApiError? Error)> HashRequestAsync(HttpContext http)
    {
        // The body is read once here and again by the endpoint, so it is buffered.
        http.Request.EnableBuffering(RequestLimits.MaxBodyBytes);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var path = http.Request.Path + http.Request.QueryString;
        sha.AppendData(Encoding.UTF8.GetBytes($"{http.Request.Method}\n{path}\n"));
        // The read buffer is rented: a new one per request was over a quarter of the bytes an idempotent create allocated.
        var buffer = ArrayPool<byte>.Shared.Rent(ReadBufferBytes);
        try
        {
            long total = 0;
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer.AsMemory(0, ReadBufferBytes), http.RequestAborted)) > 0)
            {
                total += read;
                if (total > RequestLimits.MaxBodyBytes)
                {
                    return ("", "", ApiError.ForStatus(StatusCodes.Status413PayloadTooLarge));
                }

                sha.AppendData(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        http.Request.Body.Position = 0;
        return (path, Convert.ToHexStringLower(sha.GetHashAndReset()), null);
    }

    // Note: spec §7: a retry while the first request is still running is 409. Unlike the 409 of a key used for another
    // request, this one passes: Retry-After says so, and when to try again (the SDK retries on it).
    private static ApiError StillRunning()
    {
        var error = ApiError.Conflict("idempotency_conflict",
            $"A request with this {HeaderName} is still being processed. Retry later.", HeaderName);
        error.Headers["Retry-After"] = StillRunningRetryAfterSeconds;
        return error;
    }

    private enum Claim
    {
        /// <summary>This request holds the key: it runs.</summary>
        Claimed,

        /// <summary>A record of the key exists: replayed, refused as another request, or taken over.</summary>
        Taken,

        /// <summary>The first request with the key was still running when the wait for it ended.</summary>
        StillRunning,
    }

    private const string ClaimSql =
        """
        INSERT INTO idempotency_records (client_id, idempotency_key, request_method, request_path, request_hash, state, created_at, expires_at)
        VALUES (@clientId, @key, @method, @path, @hash, 'in_progress', @now, @expires)
        """;

    // Note: on PostgreSQL the claim of a key whose first request has not committed yet waits on that request's
    // row, for as long as the request runs. lock_timeout bounds the wait to WaitForFirst; it is set for the claim
    // alone (SET LOCAL, then back to the session's own value), so the endpoint's writes wait as they always do.
    private static readonly string PostgresClaimSql =
        $"SET LOCAL lock_timeout = {(int)WaitForFirst.TotalMilliseconds}; {ClaimSql}; SET LOCAL lock_timeout TO DEFAULT";

    private async Task<Claim> TryClaimAsync(RequestTransaction transaction, string clientId, string key, string method, string path, string hash, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        try
        {
            await transaction.Connection.ExecuteAsync(new CommandDefinition(
                db.IsPostgres ? PostgresClaimSql : ClaimSql,
                new { clientId, key, method, path, hash, now, expires = now + (long)Retention.TotalMilliseconds },
                transaction.Transaction, cancellationToken: cancellationToken));
            return Claim.Claimed;
        }
        catch (DbException exception) when (DbErrors.IsUniqueViolation(exception))
        {
            return Claim.Taken;
        }
        catch (DbException exception) when (DbErrors.IsLockTimeout(exception))
        {
            return Claim.StillRunning;
        }
    }

    private async Task<IdempotencyRecord?> FindAsync(string clientId, string key, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<IdempotencyRecord>(new CommandDefinition(
            """
            SELECT request_method AS RequestMethod, request_path AS RequestPath, request_hash AS RequestHash, state AS State,
                   response_status AS ResponseStatus, response_headers AS ResponseHeaders, response_body AS ResponseBody,
                   created_at AS CreatedAt, expires_at AS ExpiresAt
            FROM idempotency_records WHERE client_id = @clientId AND idempotency_key = @key
            """,
            new { clientId, key }, cancellationToken: cancellationToken));
    }

    private const string StoreAnswerSql =
        """
        UPDATE idempotency_records SET state = 'completed', response_status = @status, response_headers = @headers, response_body = @body
        WHERE client_id = @clientId AND idempotency_key = @key
        """;

    private async Task StoreRefusalAsync(string clientId, string key, string method, string path, string hash, int status, string headers, byte[] body)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        try
        {
            await using var connection = await db.OpenAsync(CancellationToken.None);
            await connection.ExecuteAsync(
                """
                INSERT INTO idempotency_records (client_id, idempotency_key, request_method, request_path, request_hash, state,
                                                 response_status, response_headers, response_body, created_at, expires_at)
                VALUES (@clientId, @key, @method, @path, @hash, 'completed', @status, @headers, @body, @now, @expires)
                """,
                new { clientId, key, method, path, hash, status, headers, body, now, expires = now + (long)Retention.TotalMilliseconds });
        }
        catch (DbException exception) when (DbErrors.IsUniqueViolation(exception))
        {
            // A retry ran meanwhile and stored its own answer: that one stands.
        }
        catch (Exception exception) when (DbErrors.IsUnavailable(exception))
        {
            // The refusal still goes to the client; a retry runs again and is refused again.
            logger.LogWarning("Could not store the idempotent answer: {Reason}", exception.GetBaseException().Message);
        }
    }

    /// <summary>Removes an expired or abandoned record, unless it was replaced meanwhile (another created_at).</summary>
    private async Task DeleteAsync(string clientId, string key, long createdAt, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM idempotency_records WHERE client_id = @clientId AND idempotency_key = @key AND created_at = @createdAt",
            new { clientId, key, createdAt }, cancellationToken: cancellationToken));
    }

    private sealed class IdempotencyRecord
    {
        public string RequestMethod { get; init; } = "";

        public string RequestPath { get; init; } = "";

        public string RequestHash { get; init; } = "";

        public string State { get; init; } = "";

        public int? ResponseStatus { get; init; }

        public string? ResponseHeaders { get; init; }

        public byte[]? ResponseBody { get; init; }

        public long CreatedAt { get; init; }

        public long ExpiresAt { get; init; }
    }

    private sealed class ReplayResult(IdempotencyRecord record) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = record.ResponseStatus ?? StatusCodes.Status200OK;
            foreach (var (name, value) in JsonSerializer.Deserialize<Dictionary<string, string>>(record.ResponseHeaders ?? "{}") ?? [])
            {
                response.Headers[name] = value;
            }

            response.Headers[ReplayedHeader] = "true";
            if (record.ResponseBody is { Length: > 0 } body)
            {
                await response.Body.WriteAsync(body, httpContext.RequestAborted);
            }
        }
    }
}
