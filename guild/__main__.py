from guild.cli import main

main()
