namespace Portal.Core.Data;

/// <summary>One page of a server-paged list, with the total count for the pager.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, int Total);

/// <summary>Paging input, clamped so a caller cannot ask for a million rows at once.</summary>
public readonly record struct PageRequest(int Skip, int Take)
{
    public const int MaxTake = 500;

    public PageRequest Clamp() => new(Math.Max(0, Skip), Math.Clamp(Take, 1, MaxTake));
}
