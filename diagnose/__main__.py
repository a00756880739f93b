from diagnose.console import main

main()
