using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// Packs as objects in an S3-compatible bucket (AWS S3, Ceph RGW, MinIO…), path-style addressed,
/// with credentials from the usual AWS sources (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the
/// shared credentials file, a profile). A pack is written to a local staging file first; a PUT
/// that returned success is the durability point, and only then does the catalog name it.
/// Reads are ranged GETs with read-ahead, so adjacent chunks of a pack cost one request.
/// </summary>
internal sealed class S3PackStorage : IPackStorage, IDisposable
{
    /// <summary>Bytes one ranged GET fetches at least: restore and check read a pack mostly in order.</summary>
    public const int ReadAhead = 4 * 1024 * 1024;

    private readonly AmazonS3Client _client;
    private readonly string _stagingFolder;

    public S3PackStorage(S3PackAddress address, string stagingFolder)
    {
        Address = address;
        _stagingFolder = Path.GetFullPath(stagingFolder);
        var config = new AmazonS3Config
        {
            ForcePathStyle = true,
            AuthenticationRegion = address.Region,
            // Only what S3 requires: newer default checksums (CRC trailers) are not spoken by
            // every S3-compatible server; SigV4 signs the payload's SHA-256 anyway over http.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (address.Endpoint is { } endpoint)
        {
            config.ServiceURL = endpoint.ToString();
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(address.Region);
        }

        _client = new AmazonS3Client(config);
    }

    public S3PackAddress Address { get; }

    public string Location => Address.ToString();

    /// <summary>Checks at start that the bucket is there and the credentials open it, so a wrong setting fails now, not mid-backup.</summary>
    public async Task CheckBucketAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Address.Bucket, Prefix = Address.Prefix, MaxKeys = 1 }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e)
        {
            throw new CradleException($"pack storage {Location}: {Describe(e)}", isTransient: false, e);
        }
        catch (Exception e) when (e is HttpRequestException or AmazonClientException)
        {
            throw new CradleException($"pack storage {Location}: cannot reach it ({e.GetBaseException().Message})", isTransient: true, e);
        }
    }

    public string StagingPathFor(string name) => Path.Combine(_stagingFolder, name.Replace('/', Path.DirectorySeparatorChar));

    public async Task PutAsync(string name, string stagingPath, CancellationToken cancellationToken)
    {
        // Packs are bounded (the pack target size plus one chunk), far below PutObject's 5 GiB:
        // one request, no multipart state to clean up after a crash.
        await _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = Address.Bucket,
            Key = Address.Prefix + name,
            FilePath = stagingPath,
            ContentType = "application/octet-stream",
        }, cancellationToken).ConfigureAwait(false);
        File.Delete(stagingPath);
    }

    public IReadOnlyList<string> StagedLeftovers() =>
        Directory.Exists(_stagingFolder) ? Directory.GetFiles(_stagingFolder, "*.pack", SearchOption.AllDirectories) : [];

    public async Task<IPackHandle> OpenReadAsync(string name, CancellationToken cancellationToken) =>
        await LengthOfAsync(name, cancellationToken).ConfigureAwait(false) is { } length
            ? new ObjectHandle(this, name, length)
            : throw new StoreCorruptException($"pack {name} is missing from {Location}");

    public async Task<long?> LengthOfAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var head = await _client.GetObjectMetadataAsync(Address.Bucket, Address.Prefix + name, cancellationToken).ConfigureAwait(false);
            return head.ContentLength;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken)
    {
        var names = new List<string>();
        var request = new ListObjectsV2Request { BucketName = Address.Bucket, Prefix = Address.Prefix };
        while (true)
        {
            var page = await _client.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            foreach (var o in page.S3Objects ?? [])
            {
                if (o.Key.EndsWith(".pack", StringComparison.Ordinal))
                {
                    names.Add(o.Key[Address.Prefix.Length..]);
                }
            }

            if (page.IsTruncated != true)
            {
                return names;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    public Task DeleteAsync(string name, CancellationToken cancellationToken) =>
        _client.DeleteObjectAsync(Address.Bucket, Address.Prefix + name, cancellationToken);

    private async Task<int> ReadRangeAsync(string name, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        using var response = await _client.GetObjectAsync(new GetObjectRequest
        {
            BucketName = Address.Bucket,
            Key = Address.Prefix + name,
            ByteRange = new ByteRange(offset, offset + destination.Length - 1),
        }, cancellationToken).ConfigureAwait(false);
        var total = 0;
        while (total < destination.Length)
        {
            var read = await response.ResponseStream.ReadAsync(destination[total..], cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    private static string Describe(AmazonS3Exception e) => e.StatusCode switch
    {
        HttpStatusCode.NotFound => $"no such bucket ({e.ErrorCode}); create it first",
        HttpStatusCode.Forbidden => $"access denied ({e.ErrorCode}): check the credentials (AWS_ACCESS_KEY_ID, AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE)",
        _ => $"{(int)e.StatusCode} {e.ErrorCode}: {e.Message}",
    };

    public void Dispose() => _client.Dispose();

    /// <summary>One pack object: its length (from HEAD) and a read-ahead window of its bytes.</summary>
    private sealed class ObjectHandle(S3PackStorage storage, string name, long length) : IPackHandle
    {
        private byte[] _window = [];
        private long _windowOffset;
        private int _windowLength;

        public long Length => length;

        public async ValueTask<int> ReadAsync(Memory<byte> destination, long offset, CancellationToken cancellationToken)
        {
            if (offset >= length)
            {
                return 0;
            }

            var wanted = (int)Math.Min(destination.Length, length - offset);
            if (offset < _windowOffset || offset + wanted > _windowOffset + _windowLength)
            {
                var fetch = (int)Math.Min(Math.Max(wanted, ReadAhead), length - offset);
                if (_window.Length < fetch)
                {
                    _window = new byte[fetch];
                }

                _windowOffset = offset;
                _windowLength = 0;
                _windowLength = await storage.ReadRangeAsync(name, offset, _window.AsMemory(0, fetch), cancellationToken).ConfigureAwait(false);
                wanted = Math.Min(wanted, _windowLength);
            }

            _window.AsSpan(checked((int)(offset - _windowOffset)), wanted).CopyTo(destination.Span);
            return wanted;
        }

        public void Dispose() => _window = [];
    }
}
