using System.Text;
using System.Text.Json;
using Chekt.PartnerApi.Contacts;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Http;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Chekt.PartnerApi.Tests.Http;

/// <summary>Success answers are written in one piece, byte for byte as ASP.NET Core's configured JSON options would write them.</summary>
public sealed class JsonAnswersTests
{
    // Characters whose escaping differs between System.Text.Json's encoders.
    private const string Awkward = "O'Brien & <Søren> \"+1\" 東京 😀 \\ \u0001";

    [Theory, OnSqlite]
    public async Task AnAnswerIsTheSameJsonAsTheFrameworksOptionsWouldWrite(DatabaseProvider provider)
    {
        await using var app = await TestApp.StartAsync(provider);
        var frameworkOptions = app.Services.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        var contact = new ContactResponse(42, Awkward, Awkward, "Ünal", "+1 (555) 123-4567", "a+b@example.com", "2024-03-27T12:34:56.000Z");

        var (context, body) = NewContext();
        await JsonAnswers.Ok(contact).ExecuteAsync(context);

        Assert.Equal(JsonSerializer.Serialize(contact, frameworkOptions), Encoding.UTF8.GetString(body.ToArray()));
        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", context.Response.ContentType);
        Assert.Equal(body.Length, context.Response.ContentLength);
    }

    [Fact]
    public async Task ALargeListIsWrittenWholeAndTheNextAnswerIsNotDisturbedByIt()
    {
        IReadOnlyList<ContactResponse> many = [.. Enumerable.Range(1, 3000)
            .Select(i => new ContactResponse(i, $"ext-{i}", new string('x', 100), Awkward, null, null, "2024-03-27T12:34:56.000Z"))];

        var (first, firstBody) = NewContext();
        await JsonAnswers.Ok(many).ExecuteAsync(first);
        var (second, secondBody) = NewContext();
        await JsonAnswers.Created("/partner/v1/x/1", many[0]).ExecuteAsync(second);

        using var list = JsonDocument.Parse(firstBody.ToArray());
        Assert.True(firstBody.Length > 256 * 1024, "the list must be larger than the buffer a thread keeps");
        Assert.Equal(firstBody.Length, first.Response.ContentLength);
        Assert.Equal(3000, list.RootElement.GetArrayLength());
        Assert.Equal(Awkward, list.RootElement[2999].GetProperty("last_name").GetString());

        using var created = JsonDocument.Parse(secondBody.ToArray());
        Assert.Equal(StatusCodes.Status201Created, second.Response.StatusCode);
        Assert.Equal("/partner/v1/x/1", second.Response.Headers.Location.ToString());
        Assert.Equal(secondBody.Length, second.Response.ContentLength);
        Assert.Equal(1, created.RootElement.GetProperty("contact_id").GetInt64());
    }

    [Theory, OnSqlite]
    public async Task AGetOverKestrelCarriesAContentLengthAndIsNotChunked(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider, onKestrel: true);

        using var response = await world.SendAsync(HttpMethod.Get, world.DealerPath);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        Assert.NotEqual(true, response.Headers.TransferEncodingChunked);
        using var dealer = JsonDocument.Parse(body);
        Assert.Equal(world.DealerId, dealer.RootElement.GetProperty("dealer_id").GetInt64());
    }

    [Theory, OnSqlite]
    public async Task AnErrorBodyEscapesLikeASuccessAndCarriesAContentLength(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider, onKestrel: true);

        using var response = await world.SendAsync(HttpMethod.Put, world.DealerPath, """{"nickname":"x"}""");
        var raw = await response.Content.ReadAsStringAsync();

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Unknown field 'nickname'.", raw, StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetByteCount(raw), response.Content.Headers.ContentLength);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        using var error = JsonDocument.Parse(raw);
        Assert.Equal("unknown_field", error.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    private static (DefaultHttpContext Context, MemoryStream Body) NewContext()
    {
        var body = new MemoryStream();
        var context = new DefaultHttpContext();
        context.Response.Body = body;
        return (context, body);
    }
}
