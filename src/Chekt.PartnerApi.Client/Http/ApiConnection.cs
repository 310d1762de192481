using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Chekt.PartnerApi.Client.Http;

/// <summary>Sends the calls of every resource client: headers, body, error mapping, paging.</summary>
internal sealed class ApiConnection(HttpClient http, Uri baseAddress)
{
    private static readonly MediaTypeWithQualityHeaderValue Json = new("application/json");

    public Uri BaseAddress { get; } = baseAddress;

    public static string Path(FormattableString path) => "partner/v1/" + path.ToString(CultureInfo.InvariantCulture);

    public async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, RequestOptions? options, CancellationToken cancellationToken)
        where T : class
    {
        using var response = await SendCheckedAsync(method, new Uri(BaseAddress, path), body, options, cancellationToken).ConfigureAwait(false);
        var result = await ReadAsync<T>(response, cancellationToken).ConfigureAwait(false);
        if (result is PartnerApiResource resource)
        {
            resource.ETag = response.Headers.ETag?.ToString();
        }

        return result;
    }

    public async Task SendAsync(HttpMethod method, string path, object? body, RequestOptions? options, CancellationToken cancellationToken)
    {
        using var response = await SendCheckedAsync(method, new Uri(BaseAddress, path), body, options, cancellationToken).ConfigureAwait(false);
    }

    public Task<ListPage<T>> ListAsync<T>(string path, ListOptions? list, RequestOptions? options, CancellationToken cancellationToken) =>
        GetPageAsync<T>(PageUri(path, list), options, cancellationToken);

    public async IAsyncEnumerable<T> ListAllAsync<T>(
        string path, ListOptions? list, RequestOptions? options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Uri? next = PageUri(path, list);
        while (next is not null)
        {
            var page = await GetPageAsync<T>(next, options, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                // A cancelled enumeration stops at once, not at the end of the page already read.
                cancellationToken.ThrowIfCancellationRequested();
                yield return item;
            }

            if (page.NextPage is not null && page.NextPage == next)
            {
                // A page that links to itself would be fetched forever.
                throw new PartnerApiException(System.Net.HttpStatusCode.OK, "invalid_response", $"The next-page link repeats the page it is on ({next}).", null, null);
            }

            next = page.NextPage;
        }
    }

    private Uri PageUri(string path, ListOptions? list)
    {
        var query = new List<string>(2);
        if (list?.Limit is { } limit)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1, "limit");
            ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 1000, "limit");
            query.Add("limit=" + limit.ToString(CultureInfo.InvariantCulture));
        }

        if (list?.After is { } after)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(after, "after");
            query.Add("after=" + after.ToString(CultureInfo.InvariantCulture));
        }

        return new Uri(BaseAddress, query.Count == 0 ? path : path + "?" + string.Join('&', query));
    }

    private async Task<ListPage<T>> GetPageAsync<T>(Uri uri, RequestOptions? options, CancellationToken cancellationToken)
    {
        using var response = await SendCheckedAsync(HttpMethod.Get, uri, null, options, cancellationToken).ConfigureAwait(false);
        var items = await ReadAsync<List<T>>(response, cancellationToken).ConfigureAwait(false);
        var next = LinkHeader.Next(response, response.RequestMessage?.RequestUri ?? uri);
        if (next is not null && !SameServer(next))
        {
            // Note: the next request carries the bearer token, so it may only go where this one went.
            throw new PartnerApiException(response.StatusCode, "invalid_response",
                $"The next-page link points to another server ({next.GetLeftPart(UriPartial.Authority)}).", null, RequestIdOf(response));
        }

        return new ListPage<T>(items, next, next is null ? null : AfterOf(next));
    }

    private bool SameServer(Uri uri) =>
        Uri.Compare(uri, BaseAddress, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    private static long? AfterOf(Uri next)
    {
        foreach (var part in next.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith("after=", StringComparison.Ordinal)
                && long.TryParse(part.AsSpan("after=".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var after))
            {
                return after;
            }
        }

        return null;
    }

    private async Task<HttpResponseMessage> SendCheckedAsync(HttpMethod method, Uri uri, object? body, RequestOptions? options, CancellationToken cancellationToken)
    {
        using var request = CreateRequest(method, uri, body, options);
        var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await PartnerApiException.FromResponseAsync(response, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A header value from <see cref="RequestOptions"/>, refused at once when HTTP cannot carry it: the handler would
    /// only fail when sending, which reads as a connection failure and is retried.
    /// </summary>
    private static string? AsciiHeaderValue(string? value, string option) =>
        value is null || value.All(c => c is >= ' ' and <= '~')
            ? value
            : throw new ArgumentException($"RequestOptions.{option} must be visible ASCII characters: '{value}' cannot be sent in an HTTP header.", nameof(option));

    private static HttpRequestMessage CreateRequest(HttpMethod method, Uri uri, object? body, RequestOptions? options)
    {
        var request = new HttpRequestMessage(method, uri);
        try
        {
            request.Headers.Accept.Add(Json);
            request.Headers.Add(PartnerApiHeaders.TraceId, AsciiHeaderValue(options?.TraceId, nameof(RequestOptions.TraceId)) ?? Guid.NewGuid().ToString());
            // Note: a key per logical call, reused by its retries (the same request object is resent),
            // so that the server replays its first answer instead of applying the change twice.
            var key = AsciiHeaderValue(options?.IdempotencyKey, nameof(RequestOptions.IdempotencyKey))
                ?? (method == HttpMethod.Get ? null : Guid.NewGuid().ToString());
            if (key is not null)
            {
                request.Headers.Add(PartnerApiHeaders.IdempotencyKey, key);
            }

            if (options?.IfMatch is { } ifMatch)
            {
                request.Headers.IfMatch.Add(EntityTag(ifMatch));
            }

            if (options?.AccessToken is { } token)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            if (body is not null)
            {
                request.Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), PartnerApiJson.Options))
                {
                    Headers = { ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" } },
                };
            }

            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    private static EntityTagHeaderValue EntityTag(string value)
    {
        var trimmed = value.Trim();
        if (trimmed == "*")
        {
            return EntityTagHeaderValue.Any;
        }

        // An ETag copied without its quotes (v3) is accepted too.
        var quoted = trimmed.StartsWith('"') || trimmed.StartsWith("W/", StringComparison.Ordinal) ? trimmed : $"\"{trimmed}\"";
        return EntityTagHeaderValue.TryParse(quoted, out var tag)
            ? tag
            : throw new ArgumentException($"If-Match '{value}' is not an entity tag such as \"v3\".", nameof(value));
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                return await JsonSerializer.DeserializeAsync<T>(stream, PartnerApiJson.Options, cancellationToken).ConfigureAwait(false)
                    ?? throw new JsonException("The body is null.");
            }
        }
        catch (JsonException exception)
        {
            throw new PartnerApiException(response.StatusCode, "invalid_response",
                $"The answer is not the expected JSON: {exception.Message}", null, RequestIdOf(response));
        }
    }

    private static string? RequestIdOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues(PartnerApiHeaders.TraceId, out var values) ? values.FirstOrDefault() : null;
}
