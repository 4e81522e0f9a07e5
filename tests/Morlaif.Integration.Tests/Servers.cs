using System.Net.Http.Headers;
using System.Text;

namespace Morlaif.Integration.Tests;

/// <summary>
/// The local servers of infra/local.sh. Each test gets its own RabbitMQ virtual host (through the
/// management API), so queues left over from another run can never feed it messages.
/// </summary>
public static class Servers
{
    public const string Blobs =
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;";

    public static string BlobConnectionString =>
        Environment.GetEnvironmentVariable("ConnectionStrings__blobs") is { Length: > 0 } cs ? cs : Blobs;

    private static HttpClient Management()
    {
        var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:15672/api/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("guest:guest"u8.ToArray()));
        return http;
    }

    /// <summary>Creates a virtual host and returns the AMQP connection string for it.</summary>
    public static async Task<string> NewVirtualHostAsync(string name)
    {
        using var http = Management();
        (await http.PutAsync($"vhosts/{name}", null)).EnsureSuccessStatusCode();
        var permissions = new StringContent("""{"configure":".*","write":".*","read":".*"}""", Encoding.UTF8, "application/json");
        (await http.PutAsync($"permissions/{name}/guest", permissions)).EnsureSuccessStatusCode();
        return $"amqp://guest:guest@127.0.0.1:5672/{name}";
    }

    public static async Task DeleteVirtualHostAsync(string name)
    {
        using var http = Management();
        await http.DeleteAsync($"vhosts/{name}");
    }
}
