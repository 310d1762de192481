using Chekt.PartnerApi.Cli;

// The executable is both the server and the operator's admin tool (spec §9).
return await CliApp.RunAsync(args, CliConsole.System);

/// <summary>Entry point, visible to the integration tests' host factory.</summary>
public partial class Program;
