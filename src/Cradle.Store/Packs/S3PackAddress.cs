namespace Cradle.Store;

/// <summary>
/// Where packs go in object storage: <c>s3://BUCKET[/PREFIX]?endpoint=http://HOST:PORT&amp;region=REGION</c>.
/// No endpoint: AWS itself. Region: us-east-1 unless given (or AWS_REGION). Credentials never
/// appear here: they come from the AWS environment variables or files.
/// </summary>
internal sealed record S3PackAddress(string Bucket, string Prefix, Uri? Endpoint, string Region)
{
    public const string Scheme = "s3://";

    public const string DefaultRegion = "us-east-1";

    public static bool IsS3(string value) => value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses an address; <see cref="ArgumentException"/> says what is wrong.</summary>
    public static S3PackAddress Parse(string value)
    {
        if (!IsS3(value))
        {
            throw new ArgumentException($"'{value}' is not an s3:// address");
        }

        var rest = value[Scheme.Length..];
        var query = "";
        var q = rest.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            query = rest[(q + 1)..];
            rest = rest[..q];
        }

        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var bucket = slash >= 0 ? rest[..slash] : rest;
        var prefix = slash >= 0 ? rest[(slash + 1)..].Trim('/') : "";
        if (bucket.Length is < 3 or > 63 || !bucket.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.'))
        {
            throw new ArgumentException($"'{value}': the bucket name must be 3 to 63 characters of a-z, 0-9, '-' and '.'");
        }

        Uri? endpoint = null;
        var region = Environment.GetEnvironmentVariable("AWS_REGION") is { Length: > 0 } r ? r : DefaultRegion;
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = eq >= 0 ? pair[..eq] : pair;
            var text = eq >= 0 ? Uri.UnescapeDataString(pair[(eq + 1)..]) : "";
            switch (key)
            {
                case "endpoint":
                    if (!Uri.TryCreate(text, UriKind.Absolute, out endpoint) || endpoint.Scheme is not ("http" or "https") || endpoint.UserInfo.Length > 0)
                    {
                        throw new ArgumentException($"'{value}': endpoint must be an http:// or https:// address without credentials");
                    }

                    break;
                case "region":
                    region = text.Length > 0 ? text : throw new ArgumentException($"'{value}': region is empty");
                    break;
                default:
                    throw new ArgumentException($"'{value}': unknown parameter '{key}' (the parameters are endpoint and region; credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_SHARED_CREDENTIALS_FILE)");
            }
        }

        return new S3PackAddress(bucket, prefix.Length > 0 ? prefix + "/" : "", endpoint, region);
    }

    public override string ToString() =>
        $"{Scheme}{Bucket}{(Prefix.Length > 0 ? "/" + Prefix.TrimEnd('/') : "")}{(Endpoint is null ? "" : $" at {Endpoint.GetLeftPart(UriPartial.Authority)}")} ({Region})";
}
