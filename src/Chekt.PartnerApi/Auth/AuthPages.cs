using System.Text;
using System.Text.Encodings.Web;

namespace Chekt.PartnerApi.Auth;

/// <summary>
/// The server-rendered pages of the authorization flow. Every value is HTML-encoded; pages carry no
/// script at all and a Content-Security-Policy that would block one.
/// </summary>
public static class AuthPages
{
    public const string StylesheetPath = "/oauth/assets/auth.css";

    private static readonly Dictionary<string, string> ScopeDescriptions = new(StringComparer.Ordinal)
    {
        [Scopes.OpenId] = "Know who you are (your user id)",
        [Scopes.Profile] = "See your profile (email, dealer and role)",
        [Scopes.Email] = "See your email address",
        [Scopes.OfflineAccess] = "Keep access while you are away (refresh tokens)",
        [Scopes.ReadDealer] = "Read your dealer's company details",
        [Scopes.UpdateDealer] = "Update your dealer's company details",
        [Scopes.CreateSites] = "Create sites",
        [Scopes.ReadSites] = "Read sites",
        [Scopes.UpdateSites] = "Update sites and their arming settings",
        [Scopes.DeleteSites] = "Delete sites",
        [Scopes.ReadSiteContacts] = "Read site contacts",
        [Scopes.CreateSiteContacts] = "Create site contacts",
        [Scopes.UpdateSiteContacts] = "Update site contacts",
        [Scopes.DeleteSiteContacts] = "Delete site contacts",
        [Scopes.CreateMonitoringStations] = "Create monitoring stations",
        [Scopes.ReadMonitoringStations] = "Read monitoring stations",
        [Scopes.UpdateMonitoringStations] = "Update monitoring stations",
        [Scopes.DeleteMonitoringStations] = "Delete monitoring stations",
        [Scopes.CreateDevices] = "Register devices",
        [Scopes.ReadDevices] = "Read devices",
        [Scopes.UpdateDevices] = "Update devices",
        [Scopes.DeleteDevices] = "Delete devices",
    };

    public static HtmlPage Login(string action, IEnumerable<KeyValuePair<string, string>> hidden, string antiforgeryField, string antiforgeryToken,
        OAuthClient client, string? email, string? error, string? formActionOrigin)
    {
        var body = new StringBuilder();
        body.Append("<h1>Sign in</h1>")
            .Append("<p class=\"lead\">to continue to <strong>").Append(E(client.Name)).Append("</strong> by ").Append(E(client.PartnerName)).Append("</p>");
        if (error is not null)
        {
            body.Append("<p class=\"error\" role=\"alert\">").Append(E(error)).Append("</p>");
        }

        body.Append("<form method=\"post\" action=\"").Append(E(action)).Append("\">");
        AppendHidden(body, hidden, antiforgeryField, antiforgeryToken);
        body.Append("<label for=\"email\">Email</label>")
            .Append("<input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required autofocus value=\"").Append(E(email ?? "")).Append("\">")
            .Append("<label for=\"password\">Password</label>")
            .Append("<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>")
            .Append("<button type=\"submit\" class=\"primary\">Sign in</button>")
            .Append("</form>");
        return new HtmlPage("Sign in", body.ToString(), StatusCodes.Status200OK, formActionOrigin);
    }

    public static HtmlPage Consent(string action, IEnumerable<KeyValuePair<string, string>> hidden, string antiforgeryField, string antiforgeryToken,
        OAuthClient client, DealerUser user, IReadOnlyList<string> scopes, string formActionOrigin)
    {
        var body = new StringBuilder();
        body.Append("<h1>Allow access?</h1>")
            .Append("<p class=\"lead\"><strong>").Append(E(client.Name)).Append("</strong> by <strong>").Append(E(client.PartnerName))
            .Append("</strong> asks to act for you (").Append(E(user.Email)).Append(") and your dealer. It will be able to:</p><ul class=\"scopes\">");
        foreach (var scope in scopes)
        {
            body.Append("<li>").Append(E(ScopeDescriptions.GetValueOrDefault(scope, scope))).Append(" <code>").Append(E(scope)).Append("</code></li>");
        }

        body.Append("</ul><form method=\"post\" action=\"").Append(E(action)).Append("\">");
        AppendHidden(body, hidden, antiforgeryField, antiforgeryToken);
        body.Append("<div class=\"actions\">")
            .Append("<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>")
            .Append("<button type=\"submit\" name=\"decision\" value=\"allow\" class=\"primary\">Allow</button>")
            .Append("</div></form>");
        return new HtmlPage("Allow access", body.ToString(), StatusCodes.Status200OK, formActionOrigin);
    }

    public static HtmlPage Error(string message, int status = StatusCodes.Status400BadRequest) =>
        new("Request not valid",
            $"<h1>This request cannot be completed</h1><p class=\"error\" role=\"alert\">{E(message)}</p><p>Return to the application and try again.</p>",
            status, null);

    public static HtmlPage SignedOut() =>
        new("Signed out", "<h1>You are signed out</h1><p>You can close this window.</p>", StatusCodes.Status200OK, null);

    public const string Stylesheet = """
        :root { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330; background: #f3f5f9; }
        body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center; }
        main { background: #fff; padding: 2rem 2.25rem; border-radius: 12px; box-shadow: 0 6px 24px rgba(20, 30, 60, .12); width: min(26rem, 92vw); }
        h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
        .brand { font-weight: 700; letter-spacing: .08em; color: #d2232a; font-size: .85rem; margin-bottom: 1rem; }
        .lead { color: #4a5468; margin-top: 0; }
        label { display: block; font-weight: 600; margin: 1rem 0 .35rem; }
        input { width: 100%; box-sizing: border-box; padding: .6rem .7rem; border: 1px solid #c5ccd9; border-radius: 8px; font-size: 1rem; }
        button { margin-top: 1.25rem; padding: .65rem 1.1rem; border-radius: 8px; border: 1px solid #c5ccd9; background: #fff; font-size: 1rem; cursor: pointer; }
        button.primary { background: #1f5eff; border-color: #1f5eff; color: #fff; }
        form > button.primary { width: 100%; }
        .actions { display: flex; gap: .75rem; justify-content: flex-end; }
        .error { background: #fdecec; color: #8a1c1c; padding: .6rem .75rem; border-radius: 8px; }
        .scopes { padding-left: 1.1rem; } .scopes li { margin: .3rem 0; } code { color: #6b7385; font-size: .8em; }
        """;

    private static void AppendHidden(StringBuilder body, IEnumerable<KeyValuePair<string, string>> hidden, string antiforgeryField, string antiforgeryToken)
    {
        body.Append("<input type=\"hidden\" name=\"").Append(E(antiforgeryField)).Append("\" value=\"").Append(E(antiforgeryToken)).Append("\">");
        foreach (var (name, value) in hidden)
        {
            body.Append("<input type=\"hidden\" name=\"").Append(E(name)).Append("\" value=\"").Append(E(value)).Append("\">");
        }
    }

    private static string E(string value) => HtmlEncoder.Default.Encode(value);
}

/// <summary>An HTML page with the security headers every page of ours carries.</summary>
public sealed class HtmlPage(string title, string body, int statusCode, string? formActionOrigin) : IResult
{
    public int StatusCode { get; } = statusCode;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCode;
        response.ContentType = "text/html; charset=utf-8";
        ApplySecurityHeaders(response, formActionOrigin);
        var html = $"""
            <!doctype html>
            <html lang="en">
            <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
            <title>{HtmlEncoder.Default.Encode(title)} · CHeKT</title><link rel="stylesheet" href="{AuthPages.StylesheetPath}"></head>
            <body><main><div class="brand">CHeKT</div>{body}</main></body>
            </html>
            """;
        await response.WriteAsync(html, httpContext.RequestAborted);
    }

    // Note: no script may run (script-src 'none'); forms may post only here or to the client's
    // redirect origin (browsers differ on whether form-action also governs the redirect after a post,
    // so the server's own exact redirect_uri check is what protects it); no framing (clickjacking).
    public static void ApplySecurityHeaders(HttpResponse response, string? formActionOrigin)
    {
        var formAction = formActionOrigin is null ? "'self'" : $"'self' {formActionOrigin}";
        response.Headers.ContentSecurityPolicy =
            $"default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; form-action {formAction}; frame-ancestors 'none'; base-uri 'none'";
        response.Headers.XFrameOptions = "DENY";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
    }
}
