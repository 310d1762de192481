using System.Text.Json.Serialization;

namespace Chekt.PartnerApi.Auth;

/// <summary>RFC 6749 §5.2 error codes.</summary>
public static class OAuthErrors
{
    public const string InvalidRequest = "invalid_request";
    public const string InvalidClient = "invalid_client";
    public const string InvalidGrant = "invalid_grant";
    public const string UnauthorizedClient = "unauthorized_client";
    public const string UnsupportedGrantType = "unsupported_grant_type";
    public const string InvalidScope = "invalid_scope";
    public const string UnsupportedResponseType = "unsupported_response_type";
    public const string AccessDenied = "access_denied";
    public const string LoginRequired = "login_required";
    public const string ConsentRequired = "consent_required";
    public const string UnsupportedTokenType = "unsupported_token_type";
    public const string ServerError = "server_error";
}

public sealed record OAuthErrorBody(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("error_description")] string ErrorDescription);

/// <summary>An error of the token and revocation endpoints, written exactly as RFC 6749 §5.2 says.</summary>
public sealed class OAuthError(string error, string description) : IResult
{
    public string Error { get; } = error;

    public string Description { get; } = description;

    /// <summary>Set when the client tried HTTP Basic: the answer is then 401 with a Basic challenge (RFC 6749 §5.2).</summary>
    public bool ChallengeBasic { get; init; }

    public int StatusCode => ChallengeBasic ? StatusCodes.Status401Unauthorized : StatusCodes.Status400BadRequest;

    public static OAuthError InvalidRequest(string description) => new(OAuthErrors.InvalidRequest, description);

    public static OAuthError InvalidClient(string description, bool basic = false) =>
        new(OAuthErrors.InvalidClient, description) { ChallengeBasic = basic };

    public static OAuthError InvalidGrant(string description) => new(OAuthErrors.InvalidGrant, description);

    public static OAuthError InvalidScope(string description) => new(OAuthErrors.InvalidScope, description);

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCode;
        NoStore(response);
        if (ChallengeBasic)
        {
            response.Headers.WWWAuthenticate = "Basic realm=\"oauth\", charset=\"UTF-8\"";
        }

        await response.WriteAsJsonAsync(new OAuthErrorBody(Error, Description), AuthJsonContext.Default.OAuthErrorBody, cancellationToken: httpContext.RequestAborted);
    }

    /// <summary>RFC 6749 §5.1: token responses must not be cached.</summary>
    public static void NoStore(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
    }
}
