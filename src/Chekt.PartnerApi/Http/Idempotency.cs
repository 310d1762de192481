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
/// method, path and body. The same key with another request is 409 <c>idempotency_conflict</c>; a
/// retry that arrives while the first is still running waits for it briefly, then gets 409 too.
/// </summary>
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

    // Response headers that belong to the stored answer (the trace id and rate-limit headers are per request).
    private static readonly string[] ReplayedHeaders = ["Content-Type", "ETag", "Location", "Link"];

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var header = http.Request.Headers[HeaderName];
        if (header.Count == 0 || HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method))
        {
            return await next(context);
        }

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

            if (await TryClaimAsync(clientId, key, http.Request.Method, request.Path, request.Hash, http.RequestAborted))
            {
                return await RunAndStoreAsync(context, next, clientId, key);
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
                return ApiError.Conflict("idempotency_conflict",
                    $"A request with this {HeaderName} is still being processed. Retry later.", HeaderName);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), http.RequestAborted);
        }
    }

    private async Task<object?> RunAndStoreAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, string clientId, string key)
    {
        var http = context.HttpContext;
        var originalBody = http.Response.Body;
        using var captured = new MemoryStream();
        int status;
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
        catch
        {
            await DeleteAsync(clientId, key, null, CancellationToken.None);
            throw;
        }
        finally
        {
            http.Response.Body = originalBody;
        }

        var body = captured.ToArray();
        // Transient failures are not remembered: the retry must really run again.
        if (status >= 500 || status == StatusCodes.Status429TooManyRequests)
        {
            await DeleteAsync(clientId, key, null, CancellationToken.None);
        }
        else
        {
            var headers = ReplayedHeaders
                .Where(name => http.Response.Headers.ContainsKey(name))
                .ToDictionary(name => name, name => http.Response.Headers[name].ToString());
            await CompleteAsync(clientId, key, status, JsonSerializer.Serialize(headers), body);
        }

        await originalBody.WriteAsync(body, http.RequestAborted);
        return Results.Empty;
    }

    private static async Task<(string Path, string Hash, ApiError? Error)> HashRequestAsync(HttpContext http)
    {
        // The body is read once here and again by the endpoint, so it is buffered.
        http.Request.EnableBuffering(RequestLimits.MaxBodyBytes);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var path = http.Request.Path + http.Request.QueryString;
        sha.AppendData(Encoding.UTF8.GetBytes($"{http.Request.Method}\n{path}\n"));
        var buffer = new byte[8192];
        long total = 0;
        int read;
        while ((read = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0)
        {
            total += read;
            if (total > RequestLimits.MaxBodyBytes)
            {
                return ("", "", ApiError.ForStatus(StatusCodes.Status413PayloadTooLarge));
            }

            sha.AppendData(buffer, 0, read);
        }

        http.Request.Body.Position = 0;
        return (path, Convert.ToHexStringLower(sha.GetHashAndReset()), null);
    }

    private async Task<bool> TryClaimAsync(string clientId, string key, string method, string path, string hash, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await db.OpenAsync(cancellationToken);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO idempotency_records (client_id, idempotency_key, request_method, request_path, request_hash, state, created_at, expires_at)
                VALUES (@clientId, @key, @method, @path, @hash, 'in_progress', @now, @expires)
                """,
                new { clientId, key, method, path, hash, now, expires = now + (long)Retention.TotalMilliseconds },
                cancellationToken: cancellationToken));
            return true;
        }
        catch (DbException exception) when (DbErrors.IsUniqueViolation(exception))
        {
            return false;
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

    private async Task CompleteAsync(string clientId, string key, int status, string headers, byte[] body)
    {
        try
        {
            await using var connection = await db.OpenAsync(CancellationToken.None);
            await connection.ExecuteAsync(
                """
                UPDATE idempotency_records SET state = 'completed', response_status = @status, response_headers = @headers, response_body = @body
                WHERE client_id = @clientId AND idempotency_key = @key
                """,
                new { clientId, key, status, headers, body });
        }
        catch (Exception exception) when (DbErrors.IsUnavailable(exception))
        {
            // The answer still goes to the client; a retry will find the record abandoned and run again.
            logger.LogWarning("Could not store the idempotent answer: {Reason}", exception.GetBaseException().Message);
        }
    }

    private async Task DeleteAsync(string clientId, string key, long? createdAt, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        var sql = "DELETE FROM idempotency_records WHERE client_id = @clientId AND idempotency_key = @key" + (createdAt is null ? "" : " AND created_at = @createdAt");
        await connection.ExecuteAsync(new CommandDefinition(sql, new { clientId, key, createdAt }, cancellationToken: cancellationToken));
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
