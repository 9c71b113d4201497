namespace Portal.Benchmarks;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        await Task.CompletedTask;
        Console.WriteLine("usage: Portal.Benchmarks <scenario>");
        return args.Length == 0 ? 1 : 0;
    }
}
