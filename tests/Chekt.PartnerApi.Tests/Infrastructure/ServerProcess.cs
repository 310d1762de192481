using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Chekt.PartnerApi.Tests.Infrastructure;

/// <summary>The real server executable running as its own process, for what only a real process shows (HTTPS, the demo).</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServerProcess(Process process) => _process = process;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the server with the given arguments and waits until a line of its output contains <paramref name="readyText"/>.</summary>
    public static async Task<ServerProcess> StartAsync(IEnumerable<string> arguments, string readyText = "Application started")
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Chekt.PartnerApi.dll"));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var server = new ServerProcess(Process.Start(info)!);
        var ready = new TaskCompletionSource();
        void OnLine(object sender, DataReceivedEventArgs line)
        {
            lock (server._output)
            {
                server._output.AppendLine(line.Data);
            }

            if (line.Data?.Contains(readyText, StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        }

        server._process.OutputDataReceived += OnLine;
        server._process.ErrorDataReceived += OnLine;
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            await server.DisposeAsync();
            throw new TimeoutException($"The server did not start:\n{server.Output}");
        }

        return server;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>SIGKILL: the process gets no chance to flush or clean up (kill -9).</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
