namespace Portal.Simulator;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.WriteLine("Portal.Simulator: no command given.");
        return args.Length == 0 ? 1 : 0;
    }
}
