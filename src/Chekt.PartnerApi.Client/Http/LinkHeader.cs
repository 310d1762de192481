namespace Chekt.PartnerApi.Client.Http;

/// <summary>Reads the <c>rel="next"</c> target of a <c>Link</c> header (RFC 8288).</summary>
internal static class LinkHeader
{
    public static Uri? Next(HttpResponseMessage response, Uri requestUri)
    {
        if (!response.Headers.TryGetValues("Link", out var values))
        {
            return null;
        }

        foreach (var value in values)
        {
            var position = 0;
            while (position < value.Length)
            {
                var open = value.IndexOf('<', position);
                if (open < 0)
                {
                    break;
                }

                var close = value.IndexOf('>', open + 1);
                if (close < 0)
                {
                    break;
                }

                var target = value[(open + 1)..close];
                // The parameters run up to the next link (a comma outside quotes).
                var end = ParametersEnd(value, close + 1);
                var parameters = value[(close + 1)..end];
                if (HasRelNext(parameters) && Uri.TryCreate(requestUri, target, out var next))
                {
                    return next;
                }

                position = end + 1;
            }
        }

        return null;
    }

    private static int ParametersEnd(string value, int start)
    {
        var quoted = false;
        for (var i = start; i < value.Length; i++)
        {
            if (value[i] == '"')
            {
                quoted = !quoted;
            }
            else if (value[i] == ',' && !quoted)
            {
                return i;
            }
        }

        return value.Length;
    }

    private static bool HasRelNext(string parameters)
    {
        foreach (var parameter in parameters.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = parameter.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && parameter[..equals].Trim().Equals("rel", StringComparison.OrdinalIgnoreCase))
            {
                var relations = parameter[(equals + 1)..].Trim().Trim('"');
                if (relations.Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(r => r.Equals("next", StringComparison.OrdinalIgnoreCase)))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
