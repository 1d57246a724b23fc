from xiezhi.cli.app import main

main()
