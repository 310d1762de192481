using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace Chekt.PartnerApi.Auth;

/// <summary>
/// The authorization endpoint (RFC 6749 §4.1) with its login and consent pages, at <c>/authorize</c>
/// and <c>/oauth/authorize</c>. GET shows the login page (no session) or the consent page; the pages
/// post back to the same URL with the authorization request carried in hidden fields.
/// </summary>
public static class AuthorizeEndpoints
{
    // The authorization request parameters re-posted by the pages ("prompt" acts only on GET).
    private static readonly string[] RequestParameters =
        ["response_type", "client_id", "redirect_uri", "scope", "state", "audience", "nonce", "code_challenge", "code_challenge_method", "response_mode"];

    public static IEndpointRouteBuilder MapAuthorizeEndpoints(this IEndpointRouteBuilder app)
    {
        foreach (var path in new[] { "/authorize", "/oauth/authorize" })
        {
            var group = app.MapGroup(path).WithTags("OAuth").ExcludeFromDescription();
            group.MapGet("", ShowAsync).WithName(path == "/authorize" ? "Authorize" : "OAuthAuthorize");
            group.MapPost("", SubmitAsync).WithName(path == "/authorize" ? "AuthorizeSubmit" : "OAuthAuthorizeSubmit").DisableAntiforgery();
        }

        app.MapGet(AuthPages.StylesheetPath, () => Results.Text(AuthPages.Stylesheet, "text/css; charset=utf-8")).ExcludeFromDescription();
        return app;
    }

    /// <summary>A validated authorization request.</summary>
    private sealed record AuthorizeRequest(
        OAuthClient Client, string RedirectUri, IReadOnlyList<string> Scopes, string Audience, string? State, string? Nonce,
        string? CodeChallenge, IReadOnlySet<string> Prompt, IReadOnlyList<KeyValuePair<string, string>> Parameters)
    {
        public string RedirectOrigin => new Uri(RedirectUri).GetLeftPart(UriPartial.Authority);
    }

    /// <summary>Either a request to serve, or the answer to give instead.</summary>
    private readonly record struct Parsed(AuthorizeRequest? Request, IResult? Answer);

    private static async Task<IResult> ShowAsync(HttpContext context, OAuthClientStore clients, LoginSession session, DealerUserStore users,
        IAntiforgery antiforgery, IOptions<AuthOptions> options, CancellationToken cancellationToken)
    {
        var parameters = OAuthForm.FromQuery(context.Request.Query, out var repeated);
        var parsed = await ParseAsync(parameters, repeated, clients, options.Value, cancellationToken);
        if (parsed.Answer is not null)
        {
            return parsed.Answer;
        }

        var request = parsed.Request!;
        var signedIn = session.Read(context);
        var user = signedIn is null || request.Prompt.Contains("login") ? null : await users.FindAsync(signedIn.UserId, cancellationToken);
        if (request.Prompt.Contains("none"))
        {
            // Note: OpenID Connect prompt=none: never show a page; consent is always asked, so even a
            // signed-in user gets consent_required.
            return RedirectError(request, user is null ? OAuthErrors.LoginRequired : OAuthErrors.ConsentRequired, "User interaction is required.");
        }

        return user is null
            ? LoginPage(context, antiforgery, request, email: null, error: null)
            : ConsentPage(context, antiforgery, request, user);
    }

    private static async Task<IResult> SubmitAsync(HttpContext context, OAuthClientStore clients, LoginSession session, DealerUserStore users,
        GrantStore grants, TokenEndpointRateLimiter rateLimiter, IAntiforgery antiforgery, IOptions<AuthOptions> options, CancellationToken cancellationToken)
    {
        if (rateLimiter.TryAcquireForAddress(context) is { } limited)
        {
            return limited;
        }

        var (form, formError) = await OAuthForm.ReadAsync(context.Request, cancellationToken);
        if (formError is not null)
        {
            return AuthPages.Error(formError.Description);
        }

        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return AuthPages.Error("This form has expired or did not come from this site. Start again from the application.");
        }

        var parsed = await ParseAsync(form!, null, clients, options.Value, cancellationToken);
        if (parsed.Answer is not null)
        {
            return parsed.Answer;
        }

        var request = parsed.Request!;
        var decision = form!["decision"];
        if (decision is not null)
        {
            var signedIn = session.Read(context);
            var user = signedIn is null ? null : await users.FindAsync(signedIn.UserId, cancellationToken);
            if (user is null)
            {
                return LoginPage(context, antiforgery, request, null, "Your session has ended. Sign in again.");
            }

            if (decision == "deny")
            {
                return RedirectError(request, OAuthErrors.AccessDenied, "The user denied access.");
            }

            if (decision != "allow")
            {
                return AuthPages.Error("Unknown decision.");
            }

            var code = await grants.CreateCodeAsync(request.Client.Id, user.Id, request.RedirectUri, string.Join(' ', request.Scopes),
                request.Audience, request.CodeChallenge, request.Nonce, cancellationToken);
            return Redirect(request, ("code", code));
        }

        var email = form["email"];
        var password = form["password"];
        if (email is null || password is null)
        {
            return LoginPage(context, antiforgery, request, email, "Enter your email and password.");
        }

        var signedInUser = await users.SignInAsync(email, password, cancellationToken);
        if (signedInUser is null)
        {
            // Note: one message whatever went wrong, so the page does not reveal which emails exist or are locked.
            return LoginPage(context, antiforgery, request, email,
                $"Sign-in failed. Check your email and password. After {DealerUserStore.MaxFailedSignIns} failed attempts, sign-in is paused for {DealerUserStore.LockoutDuration.TotalMinutes:0} minutes.");
        }

        session.SignIn(context, signedInUser.Id);
        // Post/redirect/get: back to the authorization request, which now shows the consent page.
        var query = QueryString.Create(request.Parameters.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)));
        return Results.Redirect(context.Request.PathBase + context.Request.Path + query, permanent: false, preserveMethod: false);
    }

    private static async Task<Parsed> ParseAsync(OAuthForm parameters, string? repeated, OAuthClientStore clients, AuthOptions options, CancellationToken cancellationToken)
    {
        // Note: RFC 6749 §4.1.2.1: until the client and its redirect URI are known to be valid,
        // errors are shown to the user and never redirected.
        if (repeated is "client_id" or "redirect_uri")
        {
            return new(null, AuthPages.Error($"The parameter '{repeated}' appears more than once."));
        }

        var clientId = parameters["client_id"];
        var client = clientId is null ? null : await clients.FindAsync(clientId, cancellationToken);
        if (client is null)
        {
            return new(null, AuthPages.Error("Unknown client_id."));
        }

        var redirectUri = parameters["redirect_uri"];
        if (redirectUri is null && client.RedirectUris.Count == 1)
        {
            redirectUri = client.RedirectUris[0];
        }

        if (redirectUri is null || !client.RedirectUris.Contains(redirectUri, StringComparer.Ordinal))
        {
            return new(null, AuthPages.Error("The redirect_uri is not registered for this client."));
        }

        var state = parameters["state"];
        var kept = RequestParameters.Where(parameters.Has).Select(name => new KeyValuePair<string, string>(name, parameters[name]!)).ToList();
        if (!kept.Any(p => p.Key == "redirect_uri"))
        {
            kept.Add(new("redirect_uri", redirectUri));
        }

        var partial = new AuthorizeRequest(client, redirectUri, [], options.Audience, state, null, null, new HashSet<string>(), kept);
        if (repeated is not null)
        {
            return new(null, RedirectError(partial, OAuthErrors.InvalidRequest, $"The parameter '{repeated}' appears more than once."));
        }

        var responseType = parameters["response_type"];
        if (responseType is null)
        {
            return new(null, RedirectError(partial, OAuthErrors.InvalidRequest, "response_type is required."));
        }

        // Note: only the authorization code flow; no implicit ("token") or hybrid responses.
        if (responseType != "code")
        {
            return new(null, RedirectError(partial, OAuthErrors.UnsupportedResponseType, "Only response_type=code is supported."));
        }

        if (parameters["response_mode"] is { } mode && mode != "query")
        {
            return new(null, RedirectError(partial, OAuthErrors.InvalidRequest, "Only response_mode=query is supported."));
        }

        var scopes = (parameters["scope"]?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [.. client.Scopes.Order(StringComparer.Ordinal)])
            .Distinct(StringComparer.Ordinal).ToList();
        if (scopes.FirstOrDefault(s => !client.Scopes.Contains(s)) is { } notAllowed)
        {
            return new(null, RedirectError(partial, OAuthErrors.InvalidScope, $"The scope '{notAllowed}' is not allowed for this client."));
        }

        if (scopes.Count == 0)
        {
            return new(null, RedirectError(partial, OAuthErrors.InvalidScope, "No scope requested."));
        }

        var audience = parameters["audience"] ?? options.Audience;
        if (audience != options.Audience)
        {
            return new(null, RedirectError(partial, OAuthErrors.InvalidRequest, $"Unknown audience '{audience}'."));
        }

        var challenge = parameters["code_challenge"];
        var method = parameters["code_challenge_method"];
        if (challenge is not null)
        {
            // Note: RFC 7636 lets a missing method mean "plain"; we accept S256 only (RFC 9700 §2.1.1).
            if (method != "S256")
            {
                return new(null, RedirectError(partial, OAuthErrors.InvalidRequest, "code_challenge_method must be S256."));
            }

            if (!Pkce.IsValidVerifier(challenge))
            {
                return new(null, RedirectError(partial, OAuthErrors.InvalidRequest, "code_challenge is not a valid S256 challenge."));
            }
        }
        else if (method is not null)
        {
            return new(null, RedirectError(partial, OAuthErrors.InvalidRequest, "code_challenge_method was sent without code_challenge."));
        }
        else if (client.IsPublic || client.RequirePkce)
        {
            return new(null, RedirectError(partial, OAuthErrors.InvalidRequest, "PKCE (code_challenge with S256) is required for this client."));
        }

        var prompt = (parameters["prompt"]?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? []).ToHashSet(StringComparer.Ordinal);
        if (prompt.Contains("none") && prompt.Count > 1)
        {
            return new(null, RedirectError(partial, OAuthErrors.InvalidRequest, "prompt=none cannot be combined with other values."));
        }

        return new(partial with { Scopes = scopes, Audience = audience, Nonce = parameters["nonce"], CodeChallenge = challenge, Prompt = prompt }, null);
    }

    private static HtmlPage LoginPage(HttpContext context, IAntiforgery antiforgery, AuthorizeRequest request, string? email, string? error)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        return AuthPages.Login(context.Request.PathBase + context.Request.Path, request.Parameters, tokens.FormFieldName, tokens.RequestToken!,
            request.Client, email, error, request.RedirectOrigin);
    }

    private static HtmlPage ConsentPage(HttpContext context, IAntiforgery antiforgery, AuthorizeRequest request, DealerUser user)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        return AuthPages.Consent(context.Request.PathBase + context.Request.Path, request.Parameters, tokens.FormFieldName, tokens.RequestToken!,
            request.Client, user, request.Scopes, request.RedirectOrigin);
    }

    private static IResult RedirectError(AuthorizeRequest request, string error, string description) =>
        Redirect(request, ("error", error), ("error_description", description));

    /// <summary>Redirects to the (validated) redirect URI with the given parameters and the request's state.</summary>
    private static IResult Redirect(AuthorizeRequest request, params (string Name, string Value)[] values)
    {
        var query = values.Select(v => new KeyValuePair<string, string?>(v.Name, v.Value)).ToList();
        if (request.State is not null)
        {
            query.Add(new("state", request.State));
        }

        return new NoStoreRedirect(QueryHelpers.AddQueryString(request.RedirectUri, query));
    }

    private sealed class NoStoreRedirect(string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status302Found;
            httpContext.Response.Headers.Location = location;
            httpContext.Response.Headers.CacheControl = "no-store";
            httpContext.Response.Headers["Referrer-Policy"] = "no-referrer";
            return Task.CompletedTask;
        }
    }
}
