namespace Cradle.Store.Tests;

/// <summary>The <c>--packs s3://…</c> address: what it accepts, what it refuses, and how it is shown.</summary>
public sealed class S3PackAddressTests
{
    [Fact]
    public void Bucket_prefix_endpoint_and_region_are_read()
    {
        var address = S3PackAddress.Parse("s3://depot-packs/site-a/?endpoint=http://127.0.0.1:7480&region=eu-west-3");

        Assert.Equal(("depot-packs", "site-a/", "eu-west-3"), (address.Bucket, address.Prefix, address.Region));
        Assert.Equal(new Uri("http://127.0.0.1:7480"), address.Endpoint);
        Assert.Equal("s3://depot-packs/site-a at http://127.0.0.1:7480 (eu-west-3)", address.ToString());
    }

    [Fact]
    public void Without_an_endpoint_it_is_AWS_in_the_default_region_with_no_prefix()
    {
        var address = S3PackAddress.Parse("s3://depot-packs");

        Assert.Equal(("", null), (address.Prefix, address.Endpoint));
        Assert.Equal(Environment.GetEnvironmentVariable("AWS_REGION") is { Length: > 0 } r ? r : "us-east-1", address.Region);
    }

    [Theory]
    [InlineData("s3://ab", "3 to 63 characters")]
    [InlineData("s3://Depot", "3 to 63 characters")]
    [InlineData("s3://depot?endpoint=ftp://127.0.0.1", "http:// or https://")]
    [InlineData("s3://depot?endpoint=http://key:secret@127.0.0.1:7480", "without credentials")]
    [InlineData("s3://depot?endpoint=http://127.0.0.1:7480&secret_key=abc", "unknown parameter 'secret_key'")]
    [InlineData("s3://depot?region=", "region is empty")]
    public void A_bad_address_is_refused_saying_why(string value, string why)
    {
        var e = Assert.Throws<ArgumentException>(() => S3PackAddress.Parse(value));

        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_setting_takes_a_folder_or_an_s3_address_and_opens_the_matching_storage()
    {
        PackStorage.Validate("packs");
        PackStorage.Validate("s3://depot?endpoint=http://127.0.0.1:7480");
        Assert.Throws<ArgumentException>(() => PackStorage.Validate(" "));

        using var temp = new Cradle.Tests.TempFolder();
        var folder = Assert.IsType<FolderPackStorage>(PackStorage.Open(null, temp.Path));
        Assert.Equal(Path.Combine(temp.Path, "packs"), folder.Folder);
        using var s3 = Assert.IsType<S3PackStorage>(PackStorage.Open("s3://depot?endpoint=http://127.0.0.1:7480", temp.Path));
        Assert.StartsWith(Path.Combine(temp.Path, "staging"), s3.StagingPathFor("ab/ab.pack"), StringComparison.Ordinal);
    }
}
