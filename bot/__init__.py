"""The application: settings, the command line, the conversation engine and its two
front ends (a terminal chat and the Telegram bot). Nothing here parses documents."""
