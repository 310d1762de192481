namespace Chekt.PartnerApi.Auth;

/// <summary>
/// <c>GET /oauth/logout</c> and the Auth0-compatible <c>GET /v2/logout?client_id&amp;returnTo</c>:
/// end the login session and redirect only to a logout URL registered for the client.
/// </summary>
public static class LogoutEndpoints
{
    public static IEndpointRouteBuilder MapLogoutEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/oauth/logout", LogoutAsync).WithName("Logout").WithTags("OAuth").ExcludeFromDescription();
        app.MapGet("/v2/logout", LogoutAsync).WithName("LogoutV2").WithTags("OAuth").ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> LogoutAsync(HttpContext context, OAuthClientStore clients, CancellationToken cancellationToken)
    {
        LoginSession.SignOut(context);
        var query = context.Request.Query;
        // returnTo (Auth0) and post_logout_redirect_uri (OpenID Connect RP-initiated logout) mean the same.
        string? returnTo = query["returnTo"].Count == 1 ? query["returnTo"][0] : query["post_logout_redirect_uri"].Count == 1 ? query["post_logout_redirect_uri"][0] : null;
        if (string.IsNullOrEmpty(returnTo))
        {
            return AuthPages.SignedOut();
        }

        var clientId = query["client_id"].Count == 1 ? query["client_id"][0] : null;
        var client = string.IsNullOrEmpty(clientId) ? null : await clients.FindAsync(clientId, cancellationToken);
        // Note: an open redirect is refused: the target must be registered for this very client.
        if (client is null || !client.LogoutUrls.Contains(returnTo, StringComparer.Ordinal))
        {
            return AuthPages.Error("You are signed out, but the return URL is not registered for this client, so you were not redirected.");
        }

        context.Response.Headers.CacheControl = "no-store";
        return Results.Redirect(returnTo);
    }
}
