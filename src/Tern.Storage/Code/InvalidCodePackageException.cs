namespace Tern.Storage.Code;

public sealed class InvalidCodePackageException(string message) : Exception(message);
