using System.Net;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Client.Tests;

public sealed class PartnerApiExceptionTests
{
    [Theory, OnSqlite, OnPostgres]
    public async Task AnErrorAnswerOfTheServerBecomesAnExceptionWithItsFields(DatabaseProvider provider)
    {
        await using var app = await TestApp.StartAsync(provider);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/partner/v1/unknown");
        request.Headers.Add("x-partner-trace-id", "sdk-trace-1");
        var response = await app.Client.SendAsync(request);

        var exception = await PartnerApiException.FromResponseAsync(response);

        Assert.Equal(HttpStatusCode.NotFound, exception.StatusCode);
        Assert.Equal("not_found", exception.Code);
        Assert.Equal("sdk-trace-1", exception.RequestId);
        Assert.Null(exception.Field);
        Assert.False(string.IsNullOrWhiteSpace(exception.Message));
    }

    [Fact]
    public async Task ABodyThatIsNotTheErrorShapeKeepsTheStatus()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.BadGateway) { Content = new StringContent("<html>proxy error</html>") };
        var exception = await PartnerApiException.FromResponseAsync(response);
        Assert.Equal(HttpStatusCode.BadGateway, exception.StatusCode);
        Assert.Equal("http_502", exception.Code);
    }
}
